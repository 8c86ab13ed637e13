"""Advice on the figures: alerts, budgets, spikes, forecast, tier replay, efficiency, money, trends and recommendations."""
