def test_solver_converges_at_second_order_with_two_evaluations_per_step() -> None:
    target, path = GaussianTarget(), ReferencePath()
    t0, t1 = path.time_range
    x0 = path.sample_prior(64, (2,), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    exact = target.flow(x0, t0, t1)
    errors = []
    for steps in (20, 40, 80):
        field = Field(ExactVelocityNetwork(target), reference_parameterization("velocity"), path)
        result = ${camel}Solver(steps=steps).solve(field, x0)
        assert result.nfe == 2 * steps
        errors.append(float((result.samples - exact).abs().max()))
    orders = [math.log2(errors[i] / errors[i + 1]) for i in range(2)]
    assert all(1.8 < order < 2.3 for order in orders), orders
