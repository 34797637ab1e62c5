def test_parameterization_reads_the_conditional_velocity_from_the_exact_residual() -> None:
    path = ReferencePath()
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(8, 2, generator=gen, dtype=torch.float64)
    noise = torch.randn(8, 2, generator=gen, dtype=torch.float64)
    draw = path.sample(z, torch.linspace(0.1, 0.9, 8, dtype=torch.float64), noise)
    velocity = ${camel}Parameterization().to_quantity(z - draw.x, "velocity", draw.x, draw.t, path)
    torch.testing.assert_close(velocity, draw.target("velocity"))
