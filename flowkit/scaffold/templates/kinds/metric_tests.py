def test_metric_matches_the_closed_form_for_shifted_gaussians() -> None:
    # In 1D, for X ~ N(0, 1) and Y ~ N(m, 1): E|X - Y| = 2 phi(m / s) s + m (1 - 2 Phi(-m / s)) with
    # s = sqrt(2), and E|X - X'| = E|Y - Y'| = 2 / sqrt(pi).
    m, s = 3.0, math.sqrt(2.0)
    phi = math.exp(-0.5 * (m / s) ** 2) / math.sqrt(2.0 * math.pi)
    cdf = 0.5 * (1.0 + math.erf(-m / s / math.sqrt(2.0)))
    expected = 2.0 * (2.0 * s * phi + m * (1.0 - 2.0 * cdf)) - 4.0 / math.sqrt(math.pi)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 1, generator=gen, dtype=torch.float64)
    y = m + torch.randn(2000, 1, generator=gen, dtype=torch.float64)
    assert abs(${camel}Metric().compute(x, y) - expected) < 0.1
