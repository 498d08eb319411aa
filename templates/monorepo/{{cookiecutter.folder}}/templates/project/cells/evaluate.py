{%- if kind == 'vision' -%}
model.eval()
with torch.no_grad():
    predictions = model(torch.from_numpy(split.x_test)).argmax(dim=1).numpy()
{%- elif kind == 'from-scratch' -%}
{%- if task == 'regression' %}
predictions = x_test @ weights + bias
{%- else %}
predictions = (x_test @ weights + bias).argmax(axis=1)
{%- endif %}
{%- else -%}
predictions = model.predict(x_test)
{%- endif %}
{%- if task == 'regression' %}
residual = ((split.y_test - predictions) ** 2).sum()
r2 = 1 - residual / ((split.y_test - split.y_test.mean()) ** 2).sum()
hundred.record("r2", float(r2))
{%- else %}
accuracy = float((predictions == split.y_test).mean())
hundred.record("accuracy", accuracy)
{%- endif %}
