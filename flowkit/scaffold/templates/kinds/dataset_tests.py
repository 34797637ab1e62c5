def test_dataset_points_lie_on_the_ring() -> None:
    points = ${camel}Dataset(radius=3.0, noise=0.2).sample(4000, generator=torch.Generator().manual_seed(0))
    radii = points.double().norm(dim=1)
    assert abs(float(radii.mean()) - 3.0) < 0.02
    assert abs(float(radii.std()) - 0.2) < 0.02
