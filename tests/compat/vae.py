"""A variational autoencoder on synthetic 8x8 binary-ish images: the reparameterisation trick
with randn_like, a Bernoulli decoder (binary_cross_entropy on sigmoid outputs, summed), the KL
term in closed form, an MSE variant, and sampling from the prior."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class VAE(nn.Module):
    def __init__(self, pixels=64, hidden=48, latent=4):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(pixels, hidden), nn.Tanh())
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.Softplus(),
                                     nn.Linear(hidden, pixels), nn.Sigmoid())

    def encode(self, x):
        h = self.encoder(x.flatten(1))
        return self.mu(h), self.logvar(h)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decoder(z).view_as(x), mu, logvar


def vae_loss(recon, x, mu, logvar, kind):
    if kind == "bce":
        rec = F.binary_cross_entropy(recon, x, reduction="sum")
    else:
        rec = F.mse_loss(recon, x, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (rec + kld) / x.shape[0], kld / x.shape[0]


def images(n):
    """Horizontal and vertical bars, slightly blurred into [0, 1]."""
    out = torch.zeros(n, 1, 8, 8)
    rows = torch.randint(0, 8, (n,))
    vertical = torch.rand(n) < 0.5
    for i in range(n):
        if vertical[i]:
            out[i, 0, :, rows[i]] = 1.0
        else:
            out[i, 0, rows[i], :] = 1.0
    return (0.9 * out + 0.05).clamp(0, 1)


def train(kind, data, steps=60):
    torch.manual_seed(1)
    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    for step in range(steps):
        batch = data[torch.randint(0, len(data), (32,))]
        recon, mu, logvar = model(batch)
        loss, kld = vae_loss(recon, batch, mu, logvar, kind)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 15 == 0 or step == steps - 1:
            print(f"{kind} step {step:2d} loss {loss.item():.4f} kl {kld.item():.4f}")
    return model


def main():
    torch.manual_seed(0)
    data = images(256)
    print("data", tuple(data.shape), f"mean {data.mean().item():.5f}")
    for kind in ("bce", "mse"):
        model = train(kind, data)
        model.eval()
        with torch.no_grad():
            mu, logvar = model.encode(data[:4])
            print(kind, "mu", [round(v, 4) for v in mu[:, 0].tolist()],
                  "sigma", [round(v, 4) for v in logvar.mul(0.5).exp()[:, 0].tolist()])
            samples = model.decoder(torch.randn(8, 4)).view(-1, 1, 8, 8)
            print(kind, f"samples mean {samples.mean().item():.5f} max {samples.max().item():.5f}")


if __name__ == "__main__":
    main()
