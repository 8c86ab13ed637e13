"""Every bad site.toml is reported with key path and line, all at once, exit 2, nothing written."""

from __future__ import annotations

import pytest

from conftest import BASIC_TOML, csv_text, event, tree_bytes
from generator.config import key_lines, load_config
from generator.errors import ConfigError


@pytest.fixture
def built(site):
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5)]))
    assert site.build().returncode == 0
    return site


def test_unknown_key_suggests_the_closest_name_and_leaves_output_alone(built):
    before = tree_bytes(built.out)
    built.config.write_text(BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\ntimezon = "UTC"'))
    r = built.build()
    assert r.returncode == 2
    assert f"{built.config}:5: site.timezon: unknown key (did you mean 'timezone'?)" in r.stderr
    assert "1 config error; nothing was written" in r.stderr
    assert "Traceback" not in r.stderr
    assert tree_bytes(built.out) == before


def test_all_problems_reported_at_once_with_lines(built):
    text = BASIC_TOML.replace('timezone = "UTC"', 'timezone = "Mars/Olympus"\ncycle_start_day = 29')
    text = text.replace("monthly_price = 18", 'monthly_price = "lots"')
    built.config.write_text(text)
    r = built.build()
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert any(":4: site.timezone: unknown time zone 'Mars/Olympus'" in x for x in lines)
    assert any(":5: site.cycle_start_day: Input should be less than or equal to 28 (got 29)" in x for x in lines)
    assert any(":18: tiers[1].monthly_price:" in x for x in lines)
    assert lines[-1] == "creditwise: 3 config errors; nothing was written"


def test_missing_required_key(site):
    site.config.write_text(BASIC_TOML.replace('base_url = "/r/"\n', ""))
    with pytest.raises(ConfigError) as exc:
        load_config(site.config)
    assert [str(p) for p in exc.value.problems] == [f"{site.config}:1: site.base_url: required key is missing"]


def test_subscription_cross_references(site):
    site.config.write_text(BASIC_TOML + '\n[[subscription]]\nfrom = 2025-06-01\ntier = "L"\n')
    with pytest.raises(ConfigError) as exc:
        load_config(site.config)
    msgs = [str(p) for p in exc.value.problems]
    assert msgs == [
        f"{site.config}:25: subscription[1].tier: unknown tier 'L'; tiers are 'S', 'M'",
        f"{site.config}:24: subscription[1].from: 2025-06-01 is earlier than the previous entry (2026-01-01); "
        "list the tier history oldest first, one entry per date",
    ]


def test_same_date_twice_is_an_overlap(site):
    site.config.write_text(BASIC_TOML + '\n[[subscription]]\nfrom = 2026-01-01\ntier = "M"\n')
    with pytest.raises(ConfigError) as exc:
        load_config(site.config)
    assert "overlaps the previous entry" in str(exc.value)


def test_invalid_toml_names_the_line(site):
    site.config.write_text(BASIC_TOML + "\n[thresholds\n")
    r = site.build()
    assert r.returncode == 2
    assert f"{site.config}:23: not valid TOML" in r.stderr


def test_missing_config_file(tmp_path):
    from conftest import run_cli

    r = run_cli("build", "--config", str(tmp_path / "nope.toml"))
    assert r.returncode == 2
    assert "nope.toml: no such file" in r.stderr


def test_cycle_without_subscription_is_a_config_error(site):
    # The first event falls in December 2025, before the first [[subscription]] (2026-01-01).
    site.write_export("a.csv", csv_text([event("e1", "2025-12-20T10:00:00Z", 5), event("e2", "2026-01-05T10:00:00Z", 5)]))
    r = site.build()
    assert r.returncode == 2
    assert "subscription: cycle 2025-12 starts 2025-12-01, before the first [[subscription]] entry (2026-01-01)" in r.stderr


def test_key_lines_tracks_tables_and_arrays():
    text = '[site]\ntitle = "x"\n\n[[tiers]]\nname = "a"\n[[tiers]]\nname = "b"\n[budgets]\nfeatures = { image = 1 }\n'
    lines = key_lines(text)
    assert lines["site.title"] == 2
    assert lines["tiers[0].name"] == 5
    assert lines["tiers[1].name"] == 7
    assert lines["budgets.features"] == 9


def test_defaults_follow_the_spec(site):
    cfg = load_config(site.config)
    th = cfg.thresholds
    assert th.notify == [0.5, 0.8, 0.9, 1.0]
    assert (th.upgrade_utilization, th.downgrade_utilization, th.target_buffer) == (0.8, 0.6, (1.2, 1.3))
    assert (th.baseline_cycles, th.growth_horizon_months, th.burn_window_days, th.spike_factor) == (3, 6, 7, 3.0)
    site_keys = (cfg.site.cycle_start_day, cfg.site.output_dir, cfg.site.theme, cfg.site.content_dir)
    assert site_keys == (1, "public", "default", "content")
    assert cfg.data.on_error == "fail" and cfg.publish.keep == 5
    assert cfg.recommendations.model_shift_share == 0.25
