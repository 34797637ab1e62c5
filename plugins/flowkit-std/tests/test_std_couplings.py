"""Couplings: the independent pairing and the exact minibatch optimal-transport pairing."""

from __future__ import annotations

import itertools

import pytest
import torch

from flowkit_std import IndependentCoupling, OTCoupling
from flowkit_std.couplings import ot_permutation

F64 = torch.float64


def _cost(z: torch.Tensor, noise: torch.Tensor) -> float:
    return float((z - noise).reshape(z.shape[0], -1).pow(2).sum())


def test_ot_assignment_is_the_exact_optimum() -> None:
    """Against brute force over all 7! permutations, for several random batches."""
    perms = torch.tensor(list(itertools.permutations(range(7))))
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        z = torch.randn(7, 2, generator=gen, dtype=F64) + 1.0
        noise = torch.randn(7, 2, generator=gen, dtype=F64)
        cost = torch.cdist(z, noise).pow(2)
        brute = cost[torch.arange(7), perms].sum(1).min()
        paired_z, paired_noise = OTCoupling().pair(z, noise)
        assert torch.equal(paired_z, z)
        assert _cost(paired_z, paired_noise) == pytest.approx(float(brute), rel=1e-12)


def test_ot_pairs_are_a_permutation_and_never_worse_than_independent() -> None:
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(256, 1, 4, 4, generator=gen)
    noise = torch.randn(256, 1, 4, 4, generator=gen)
    perm = ot_permutation(z, noise)
    assert sorted(perm.tolist()) == list(range(256))
    _, paired = OTCoupling().pair(z, noise)
    assert torch.equal(paired, noise[perm]) and paired.shape == noise.shape
    assert _cost(z, paired) < 0.8 * _cost(z, noise)


def test_ot_in_one_dimension_matches_sorted_orders() -> None:
    """In 1-D the optimal plan is monotone: the k-th smallest point gets the k-th smallest draw."""
    gen = torch.Generator().manual_seed(2)
    z = 3.0 * torch.randn(50, 1, generator=gen, dtype=F64)
    noise = torch.randn(50, 1, generator=gen, dtype=F64)
    _, paired = OTCoupling().pair(z, noise)
    order = z[:, 0].argsort()
    assert torch.equal(paired[order, 0], noise[:, 0].sort().values)


def test_independent_coupling_returns_its_inputs() -> None:
    z, noise = torch.randn(5, 2), torch.randn(5, 2)
    out_z, out_noise = IndependentCoupling().pair(z, noise)
    assert out_z is z and out_noise is noise


@pytest.mark.parametrize("coupling", [IndependentCoupling(), OTCoupling()], ids=["independent", "ot"])
def test_mismatched_batches_are_refused(coupling: IndependentCoupling | OTCoupling) -> None:
    with pytest.raises(ValueError, match="same shape"):
        coupling.pair(torch.zeros(4, 2), torch.zeros(5, 2))
