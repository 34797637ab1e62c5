"""The MLP: images through flattening, class labels with a "no label" token."""

from __future__ import annotations

import pytest
import torch

from flowkit_nets import MLP


def test_mlp_takes_images_by_flattening() -> None:
    torch.manual_seed(0)
    model = MLP((1, 8, 8), width=32, depth=2)
    assert model.net[0].in_features == 64 + model.params.time_dim
    x = torch.randn(5, 1, 8, 8)
    out = model(x, torch.rand(5))
    assert out.shape == (5, 1, 8, 8)
    # an image and its flattened copy are the same input to the network
    flat = MLP((64,), width=32, depth=2)
    flat.load_state_dict(model.state_dict())
    t = torch.full((5,), 0.3)
    torch.testing.assert_close(flat(x.reshape(5, 64), t).reshape(5, 1, 8, 8), model(x, t))


def test_mlp_with_labels() -> None:
    torch.manual_seed(0)
    model = MLP((2,), num_classes=3, width=32, depth=2)
    assert model.label_embedding is not None and model.label_embedding.num_embeddings == 4
    x, t = torch.randn(6, 2), torch.rand(6)
    with torch.no_grad():
        a = model(x, t, torch.tensor([0, 0, 1, 1, 2, 2]))
        b = model(x, t, torch.tensor([1, 2, 2, 0, 0, 1]))
        null = model(x, t, torch.full((6,), 3))
        none = model(x, t)
    assert bool(((a - b).abs().sum(dim=1) > 1e-4).all())
    torch.testing.assert_close(none, null, rtol=0, atol=0)
    out = model(x, t, torch.tensor([0, 1, 2, 3, 0, 1]))
    out.pow(2).sum().backward()
    grad = model.label_embedding.weight.grad
    assert grad is not None and bool((grad.abs().sum(dim=1) > 0).all())


def test_unconditional_mlp_refuses_a_condition() -> None:
    model = MLP((2,), width=8, depth=1)
    with pytest.raises(ValueError, match="built without classes"):
        model(torch.randn(2, 2), torch.rand(2), torch.zeros(2, dtype=torch.long))
