"""The CUDA path (cuDNN through torch's native kernels): equal to the reference and to the CPU.

Runs only where a GPU is present (CI has none; these run on a lent GPU machine). TF32 is turned off
so that float32 comparisons are exact to rounding: with TF32 cuDNN trades ~1e-3 relative precision
for speed, as TensorFlow does by default.
"""

from __future__ import annotations

import pytest
import torch

from lstmkit.layers import GRU, LSTM, SimpleRNN

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

FAMILIES = {"lstm": LSTM, "gru": GRU, "simple_rnn": SimpleRNN}


@pytest.fixture(autouse=True)
def no_tf32():
    old = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = old


def pair(family, **options):
    torch.manual_seed(0)
    cpu = FAMILIES[family](7, return_state=True, **options)
    cpu(torch.randn(4, 9, 3))
    gpu = FAMILIES[family](7, return_state=True, **options).cuda()
    gpu(torch.randn(4, 9, 3, device="cuda"))
    gpu.set_weights(cpu.get_weights())
    return cpu, gpu


def grads(layer, x, mask=None, training=False):
    x = x.clone().requires_grad_(True)
    outputs = layer(x, mask=mask, training=training)
    loss = sum((o * torch.linspace(-1, 1, o.numel(), device=o.device).reshape(o.shape)).sum() for o in outputs)
    return [o.detach().cpu() for o in outputs], [g.cpu() for g in torch.autograd.grad(loss, [x, *layer.weights])]


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_cuda_fused_equals_cpu_reference(family, masked, go_backwards):
    cpu, gpu = pair(family, return_sequences=True, go_backwards=go_backwards, use_fused="auto")
    cpu.use_fused = False
    x = torch.randn(4, 9, 3)
    mask = torch.arange(9).unsqueeze(0) < torch.tensor([[9], [5], [1], [7]]) if masked else None
    out_c, g_c = grads(cpu, x, mask)
    out_g, g_g = grads(gpu, x.cuda(), mask.cuda() if masked else None)
    assert gpu.last_path == "fused" and cpu.last_path == "reference"
    for a, b in zip(out_g, out_c):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    for a, b in zip(g_g, g_c):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_cuda_fused_equals_cuda_reference(family):
    _, fused = pair(family, return_sequences=True)
    _, reference = pair(family, return_sequences=True, use_fused=False)
    x = torch.randn(4, 9, 3, device="cuda")
    out_f, g_f = grads(fused, x)
    out_r, g_r = grads(reference, x)
    for a, b in zip(out_f + g_f, out_r + g_r):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_cuda_stateful_and_recurrent_dropout_paths():
    cpu, gpu = pair("lstm", stateful=True)
    cpu.reset_states()  # pair()'s building calls saw different inputs
    gpu.reset_states()
    for _ in range(3):
        x = torch.randn(4, 9, 3)
        for a, b in zip(gpu(x.cuda()), cpu(x)):
            torch.testing.assert_close(a.cpu(), b, atol=1e-5, rtol=1e-4)
    lstm = LSTM(7, recurrent_dropout=0.3, dropout=0.2, seed=1, return_sequences=True).cuda()
    reference = LSTM(7, recurrent_dropout=0.3, dropout=0.2, seed=1, return_sequences=True,
                     use_fused=False).cuda()
    x = torch.randn(4, 9, 3, device="cuda")
    lstm(x)
    reference(x)
    reference.set_weights(lstm.get_weights())
    out_b, g_b = grads(lstm, x, training=True)
    out_r, g_r = grads(reference, x, training=True)
    assert lstm.last_path == "bptt"
    for a, b in zip(out_b + g_b, out_r + g_r):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_numpy_input_goes_to_the_layer_device():
    lstm = LSTM(3).cuda()
    lstm(torch.zeros(2, 4, 1, device="cuda"))
    out = lstm(torch.zeros(2, 4, 1).numpy())
    assert out.device.type == "cuda"
