{%- if starter == 'time-series' -%}
# The smoke profile keeps the 400 days before the cut: a yearly season needs more than a year.
split = data.load(limit=400 if SMOKE else None, seed=seed)
{%- else -%}
split = data.load(limit=256 if SMOKE else None, seed=seed)
{%- endif %}
print(f"train {split.x_train.shape}, test {split.x_test.shape}")
