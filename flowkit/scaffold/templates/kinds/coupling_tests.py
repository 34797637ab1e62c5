def test_coupling_pairs_one_dimensional_data_in_order() -> None:
    gen = torch.Generator().manual_seed(0)
    z = 3.0 + torch.randn(32, 1, generator=gen)
    noise = torch.randn(32, 1, generator=gen)
    paired_z, paired_noise = ${camel}Coupling().pair(z, noise, generator=gen)
    assert paired_z is z
    assert torch.equal(torch.sort(paired_noise[:, 0]).values, torch.sort(noise[:, 0]).values)
    assert torch.equal(torch.argsort(paired_z[:, 0]), torch.argsort(paired_noise[:, 0]))
