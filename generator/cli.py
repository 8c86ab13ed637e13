"""The `creditwise` command line (SPEC §5). `python -m generator` is the same program.

Exit codes: 0 success · 1 internal error (the only case with a traceback) · 2 usage or config
error · 3 data error in the exports · 4 check failed or publish refused.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from generator import __version__
from generator.errors import CheckError, CreditwiseError, UsageError

EPILOG = """exit codes: 0 success, 1 internal error, 2 usage or config error,
3 data error in the exports, 4 check failed or publish refused"""


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# Each command imports what it needs inside its function (as MkDocs' CLI does): `--help`, `check` or
# `new` then start without loading DuckDB, Matplotlib or the whole pipeline.


def cmd_build(args: argparse.Namespace) -> int:
    from generator.config import load_config
    from generator.pipeline.output import refuse_unsafe_output
    from generator.pipeline.stamp import summary_line, up_to_date

    start = time.perf_counter()
    config = load_config(args.config)
    output = Path(args.output).resolve() if args.output else None  # -o is relative to where you are
    refuse_unsafe_output(config, config.output_path(output))  # before the caches are touched
    # Nothing changed since the last build of this folder: say so before loading the whole pipeline.
    summary = up_to_date(config, config.output_path(output))
    if summary is not None and not (args.strict and summary["warnings"]):
        for warning in summary["warnings"]:
            _err(f"warning: {warning}")
        if not args.quiet:
            print(summary_line(config.output_path(output), summary, time.perf_counter() - start))
        return 0
    from generator.pipeline.build import build

    # Stage-by-stage progress only for a person watching; logs and pipes get the summary line.
    show = sys.stderr.isatty() and not args.quiet
    progress = (lambda stage: _err(f"creditwise: {stage}")) if show else (lambda _: None)
    result = build(config, output, strict=args.strict, progress=progress)
    for warning in result.report.warnings:
        _err(f"warning: {warning}")
    if not args.quiet:
        print(result.summary())
        print(f"Open {result.out_dir / 'index.html'}")
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    from generator.scaffold.demo_data import MAX_MONTHS, write_demo_exports

    if not 1 <= args.months <= MAX_MONTHS:
        raise UsageError(f"--months must be between 1 and {MAX_MONTHS} (the demo tier history starts in December 2024)")
    written = write_demo_exports(Path(args.out), months=args.months, seed=args.seed)
    print(f"Wrote {len(written)} demo exports to {args.out}")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from generator.scaffold.new_site import new_site

    folder = Path(args.dir)
    written = new_site(folder)
    print(f"Created {folder} with {len(written)} files: site.toml, README.md, content/guides/ and sample exports.")
    print(f"Next: cd {folder} && creditwise build   (then open public/index.html)")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from generator.check import check_site

    result = check_site(Path(args.dir))
    for problem in result.problems:
        _err(str(problem))
    if result.problems:
        n = len(result.problems)
        _err(f"creditwise check: {n} problem{'s' if n != 1 else ''} in {args.dir} ({result.summary()})")
        return CheckError.exit_code
    print(f"Checked {args.dir}: no problems in {result.summary()}")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from generator.config import load_config
    from generator.publish.releases import publish, rollback

    config = load_config(args.config)
    show = sys.stderr.isatty()
    progress = (lambda stage: _err(f"creditwise: {stage}")) if show else (lambda _: None)
    try:
        if args.rollback:
            return rollback(config, dry_run=args.dry_run)
        return publish(config, dry_run=args.dry_run, progress=progress)
    except CreditwiseError as exc:
        # Say why, and that the live site is untouched: every failure happens before `current` switches.
        for problem in exc.problems:
            _err(str(problem))
        stage = {CheckError: "refused"}.get(type(exc), f"stopped by {exc.total} {exc.label}{'s' if exc.total != 1 else ''}")
        _err(f"creditwise publish: {stage}; nothing was {'rolled back' if args.rollback else 'published'}, "
             "the live site is unchanged")
        return exc.exit_code


def cmd_digest(args: argparse.Namespace) -> int:
    from generator.config import load_config
    from generator.digest.command import run_digest

    config = load_config(args.config)
    show = sys.stderr.isatty()
    progress = (lambda stage: _err(f"creditwise: {stage}")) if show else (lambda _: None)
    sys.stdout.write(run_digest(config, args.since, args.format, progress=progress))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from generator.serve.app import serve

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535 (0 picks a free port), got {args.port}")
    return serve(Path(args.config), args.port)


def _command(sub: argparse._SubParsersAction, name: str, **kwargs) -> argparse.ArgumentParser:
    """A subcommand whose --help keeps its description's lines and ends with the exit codes."""
    return sub.add_parser(name, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)


def _config_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("-c", "--config", default="site.toml", metavar="PATH", help="site configuration (default: site.toml)")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="creditwise",
        description="Build static usage-report sites from Aethera usage exports and a site.toml.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"creditwise {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    b = _command(sub, "build", help="build the site from site.toml and the exports",
                       description="Read site.toml and every export it names, compute the report and write the site "
                                   "into [site].output_dir (built beside it, swapped in only when complete). "
                                   "What did not change is reused from .creditwise/cache/ beside site.toml (delete "
                                   "it to start afresh); a site whose inputs did not change is left as it is.")
    _config_option(b)
    b.add_argument("-o", "--output", metavar="DIR", help="output directory (overrides [site].output_dir)")
    b.add_argument("--strict", action="store_true", help="treat warnings (e.g. a glob matching nothing) as errors")
    b.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    b.set_defaults(run=cmd_build)

    s = _command(sub, "serve", help="preview on 127.0.0.1 with live reload while guides, theme, site.toml or exports change",
                       description="Build the site in memory and serve it on 127.0.0.1. A change to a guide re-renders the "
                                   "guide pages, to the theme every page, to site.toml or an export the whole report "
                                   "(with the ingest cache); open pages reload by themselves, keeping their scroll "
                                   "position, and a build error shows over the last good page until it is fixed. "
                                   "Nothing is written to the output directory.")
    _config_option(s)
    s.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default: 8000; 0 picks a free one)")
    s.set_defaults(run=cmd_serve)

    c = _command(sub, "check", help="check links, HTML and the JSON API of a built site",
                       description="Check a built site: every internal link and asset resolves, every page parses "
                                   "(and validates with vnu where installed), every JSON API document is valid against its JSON "
                                   "Schema (api/schema/), no "
                                   "absolute links outside sitemap.xml, feed.xml and 404.html. One line per problem.")
    c.add_argument("dir", nargs="?", default="public", metavar="DIR", help="the built site (default: public)")
    c.set_defaults(run=cmd_check)

    pb = _command(sub, "publish", help="build, check and deploy atomically to [publish].target",
                        description="Build, check, then upload a new release to [publish].target (a directory, or "
                                    "ssh://[user@]host[:port]/path via rsync; $CREDITWISE_SSH sets the ssh command) "
                                    "and switch its 'current' symlink atomically. The same content twice is a no-op.")
    _config_option(pb)
    pb.add_argument("--dry-run", action="store_true", help="print what would be uploaded and removed; change nothing")
    pb.add_argument("--rollback", action="store_true", help="switch 'current' back to the previous release")
    pb.set_defaults(run=cmd_publish)

    n = _command(sub, "new", help="create a new site folder that builds at once",
                       description="Create DIR with a commented site.toml, an exports/ folder holding a small "
                                   "generated sample, content/guides/ with an example guide (your own pages, and "
                                   "overrides of the shipped ones) and a README with the next steps. DIR must be new "
                                   "or empty.")
    n.add_argument("dir", metavar="DIR", help="the folder to create")
    n.set_defaults(run=cmd_new)

    dg = _command(sub, "digest", help="what changed since the last published release, for mail, chat or scripts",
                        description="Bring the site up to date (like build), then compare its JSON API with the live "
                                    "release on [publish].target (or --since another release or a date): new alerts "
                                    "by level, thresholds crossed, the tier decision if it changed, this cycle's "
                                    "figures and action, the top three recommendations, each with its link under "
                                    "base_url. Prints 'Nothing new' (exit 0) when nothing changed. Run it before "
                                    "publish to describe what the publish brings (README, Scheduling).")
    _config_option(dg)
    dg.add_argument("--since", metavar="BUILD_OR_DATE",
                    help="a kept release (its id, sequence number or build time) or a date YYYY-MM-DD "
                         "(default: the live release)")
    dg.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                    help="text (mail, default), markdown (chat) or json (scripts)")
    dg.set_defaults(run=cmd_digest)

    d = _command(sub, "demo-data", help="write deterministic demo exports",
                       description="Write realistic, deterministic Aethera exports (monthly CSV files plus an "
                                   "overlapping quarterly file) for trying Creditwise out.")
    d.add_argument("--out", default="content/exports", metavar="DIR", help="where to write (default: content/exports)")
    d.add_argument("--months", type=int, default=14, metavar="N",
                   help="billing cycles up to November 2026 (default: 14, enough for seasonal patterns)")
    d.add_argument("--seed", type=int, default=7, metavar="N", help="random seed (default: 7)")
    d.set_defaults(run=cmd_demo_data)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except CreditwiseError as exc:
        for problem in exc.problems:
            _err(str(problem))
        _err(f"creditwise: {exc.total} {exc.label}{'s' if exc.total != 1 else ''}; nothing was written")
        return exc.exit_code
    except BrokenPipeError:  # `creditwise build | head`: the reader left, nothing is wrong
        return 0
    except KeyboardInterrupt:
        _err("creditwise: interrupted")
        return 130
