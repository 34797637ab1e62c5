def test_path_schedule_runs_from_noise_to_data() -> None:
    path = ${camel}Path()
    t = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    assert path.alpha(t).tolist() == [0.0, 0.5, 1.0]
    assert path.beta(t).tolist() == [1.0, 0.5, 0.0]
    assert path.d_alpha(t).tolist() == [0.0, 1.5, 0.0]
    assert path.time_range == (1e-3, 1.0 - 1e-3)
