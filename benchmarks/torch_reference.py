"""The PyTorch GAN loop people copy (pytorch/examples' DCGAN), on this project's networks.

The yardstick of benchmarks/backends.py: plain PyTorch, no Keras. The
networks are `keras_gan.model.networks`' layer tables written in `torch.nn` (same
layers, same parameter counts: tests/test_backends.py checks them); the
step is pytorch/examples' DCGAN step -- D on a real and a generated batch
(binary cross-entropy on logits), then G on the same fakes with "real"
targets (the non-saturating loss), Adam(2e-4, beta_1=0.5) for both.

Variants (`TorchLoop(..., variant=)`):
- "eager": the loop as written;
- "compiled": D and G through `torch.compile`;
- "cuda graph" (CUDA only): compiled D and G, bfloat16 autocast, and the
  whole step (both updates and the data indexing) captured in one CUDA
  graph and replayed -- the fastest PyTorch loop in the project's notes.
  First run on a lent H200 on 2026-12-04 (docs/performance.md, "GPU: the
  JAX backend"), where the float32 "compiled" conv loop failed inside
  Inductor (PyTorch 2.11) and the benchmark reports it as not timed.

`TorchLoop(family, batch_size, images, variant).run(steps)` trains that many
steps on uint8 `images` (held on the device, a random batch per step) and
returns the seconds they took, waiting for the device.
"""

import time

import torch
from torch import nn

LATENT_DIM = 32
LEAKY_SLOPE = 0.2


def mlp_generator():
    layers, width = [], LATENT_DIM
    for units in (128, 256, 512):
        layers += [nn.Linear(width, units), nn.BatchNorm1d(units, eps=1e-3, momentum=0.01),
                   nn.LeakyReLU(LEAKY_SLOPE)]
        width = units
    return nn.Sequential(*layers, nn.Linear(width, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))


def mlp_discriminator():
    layers, width = [nn.Flatten()], 784
    for units in (512, 256, 128):
        layers += [nn.Linear(width, units), nn.LeakyReLU(LEAKY_SLOPE)]
        width = units
    return nn.Sequential(*layers, nn.Linear(width, 1))


def conv_generator():
    return nn.Sequential(
        nn.Linear(LATENT_DIM, 3 * 3 * 128), nn.LeakyReLU(LEAKY_SLOPE), nn.Unflatten(1, (128, 3, 3)),
        nn.ConvTranspose2d(128, 128, 3, stride=2),  # 7x7 ("valid")
        nn.BatchNorm2d(128, eps=1e-3, momentum=0.01), nn.LeakyReLU(LEAKY_SLOPE),
        nn.ConvTranspose2d(128, 64, 3, stride=2, padding=1, output_padding=1),  # 14x14
        nn.BatchNorm2d(64, eps=1e-3, momentum=0.01), nn.LeakyReLU(LEAKY_SLOPE),
        nn.ConvTranspose2d(64, 1, 3, stride=2, padding=1, output_padding=1), nn.Tanh(),  # 28x28
    )


def conv_discriminator():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.LeakyReLU(LEAKY_SLOPE),  # 14x14
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.LeakyReLU(LEAKY_SLOPE),  # 7x7
        nn.Conv2d(64, 128, 3, stride=2), nn.LeakyReLU(LEAKY_SLOPE),  # 3x3 ("valid")
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(1152, 1),
    )


MODELS = {"mlp": (mlp_generator, mlp_discriminator), "conv": (conv_generator, conv_discriminator)}


def parameter_count(module):
    return sum(p.numel() for p in module.parameters())


class TorchLoop:
    def __init__(self, family, batch_size, images, variant="eager", device=None):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if variant == "cuda graph" and self.device.type != "cuda":
            raise ValueError("the 'cuda graph' variant needs a CUDA device")
        torch.manual_seed(0)
        # TF32 on tensor cores for float32 matrix products, as JAX and TensorFlow use on a GPU by default.
        torch.set_float32_matmul_precision("high")
        make_g, make_d = MODELS[family]
        self.g, self.d = make_g().to(self.device), make_d().to(self.device)
        self.g_opt = torch.optim.Adam(self.g.parameters(), lr=2e-4, betas=(0.5, 0.999),
                                      capturable=variant == "cuda graph")
        self.d_opt = torch.optim.Adam(self.d.parameters(), lr=2e-4, betas=(0.5, 0.999),
                                      capturable=variant == "cuda graph")
        self.g_call, self.d_call = self.g, self.d
        if variant in ("compiled", "cuda graph"):
            # Every loop compiles its own modules, and the loops of a benchmark share one process: the
            # default limit of 8 compilations per code object ran out after the first few and the rest
            # silently ran eagerly (seen on an H200, 2026-12-04).
            torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 256)
            torch._dynamo.config.accumulated_recompile_limit = max(
                torch._dynamo.config.accumulated_recompile_limit, 4096)
            self.g_call, self.d_call = torch.compile(self.g, dynamic=False), torch.compile(self.d, dynamic=False)
        self.loss = nn.BCEWithLogitsLoss()
        self.batch_size = batch_size
        # [N, 28, 28, 1] uint8 -> [N, 1, 28, 28] in [-1, 1], on the device once.
        pixels = torch.as_tensor(images).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        self.images = pixels.to(self.device)
        self.ones = torch.ones(batch_size, 1, device=self.device)
        self.zeros = torch.zeros(batch_size, 1, device=self.device)
        self.variant = variant
        self.graph = None

    def step(self):
        index = torch.randint(0, len(self.images), (self.batch_size,), device=self.device)
        real = self.images[index]
        z = torch.randn(self.batch_size, LATENT_DIM, device=self.device)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.variant == "cuda graph"):
            fake = self.g_call(z)
            self.d_opt.zero_grad(set_to_none=False)
            d_loss = (self.loss(self.d_call(real).float(), self.ones)
                      + self.loss(self.d_call(fake.detach()).float(), self.zeros))
            d_loss.backward()
            self.d_opt.step()
            self.g_opt.zero_grad(set_to_none=False)
            g_loss = self.loss(self.d_call(fake).float(), self.ones)
            g_loss.backward()
            self.g_opt.step()

    def _capture(self):
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):  # warm-up on a side stream, as capture requires
                self.step()
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.step()

    def run(self, steps):
        if self.variant == "cuda graph" and self.graph is None:
            self._capture()
        start = time.perf_counter()
        for _ in range(steps):
            if self.graph is not None:
                self.graph.replay()
            else:
                self.step()
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        else:
            float(next(self.g.parameters()).detach().sum())  # waits for the last step
        return time.perf_counter() - start
