def test_objective_times_are_logit_normal_and_the_exact_field_scores_best() -> None:
    target, path = GaussianTarget(), ReferencePath()
    exact = Field(ExactVelocityNetwork(target), reference_parameterization("velocity"), path)
    objective = ${camel}Objective(location=1.0)
    gen = torch.Generator().manual_seed(0)
    times = objective.sample_times(20000, exact, torch.zeros(1, dtype=torch.float64), gen)
    lo, hi = path.time_range
    assert abs(float(times.median()) - (lo + (hi - lo) / (1.0 + math.exp(-1.0)))) < 0.01

    def zero_velocity(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)

    zero = Field(zero_velocity, reference_parameterization("velocity"), path)
    z = target.mean + target.std * torch.randn(4096, 2, generator=gen, dtype=torch.float64)
    noise = torch.randn(4096, 2, generator=gen, dtype=torch.float64)
    best = objective.loss(exact, z, noise, generator=torch.Generator().manual_seed(1))
    worse = objective.loss(zero, z, noise, generator=torch.Generator().manual_seed(1))
    assert float(best) < float(worse)
