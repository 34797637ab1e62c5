def test_model_learns_a_fixed_regression_target() -> None:
    torch.manual_seed(0)
    model = ${camel}Model((2,), width=32)
    x = torch.randn(64, 2)
    t = torch.rand(64)
    target = torch.stack([x[:, 1], -x[:, 0]], dim=1) * t[:, None]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        loss = (model(x, t) - target).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.2 * losses[0]
