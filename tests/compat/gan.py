"""A GAN on a 2-D ring of Gaussians: MLP generator and discriminator, BCEWithLogitsLoss, one Adam
per network, the usual detach and zero_grad pattern, and the non-saturating generator loss."""

import math

import torch
import torch.nn as nn


def real_batch(n):
    """Points near 8 centres on the unit circle."""
    k = torch.randint(0, 8, (n,)).float() * (2 * math.pi / 8)
    centres = torch.stack([torch.cos(k), torch.sin(k)], dim=1)
    return centres + 0.05 * torch.randn(n, 2)


def main():
    torch.manual_seed(0)
    latent = 8
    generator = nn.Sequential(nn.Linear(latent, 64), nn.LeakyReLU(0.2),
                              nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 2))
    discriminator = nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Dropout(0.1),
                                  nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))
    criterion = nn.BCEWithLogitsLoss()
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-3, betas=(0.5, 0.999))
    fixed_noise = torch.randn(256, latent)
    ones, zeros = torch.ones(64, 1), torch.zeros(64, 1)

    for step in range(150):
        real = real_batch(64)
        fake = generator(torch.randn(64, latent))

        opt_d.zero_grad()
        loss_d = criterion(discriminator(real), ones) + \
            criterion(discriminator(fake.detach()), zeros)
        loss_d.backward()
        opt_d.step()

        opt_g.zero_grad(set_to_none=False)
        loss_g = criterion(discriminator(fake), ones)  # non-saturating loss
        loss_g.backward()
        opt_g.step()

        if step % 25 == 0:
            d_grad = sum(p.grad.norm() ** 2 for p in discriminator.parameters()).sqrt()
            print(f"step {step:3d} loss_d {loss_d.item():.5f} loss_g {loss_g.item():.5f} "
                  f"|grad D| {d_grad.item():.5f}")

    generator.eval()
    discriminator.eval()
    with torch.no_grad():
        samples = generator(fixed_noise)
        radius = samples.norm(dim=1)
        print(f"radius mean {radius.mean().item():.5f} std {radius.std().item():.5f}")
        d_real = torch.sigmoid(discriminator(real_batch(256))).mean().item()
        d_fake = torch.sigmoid(discriminator(samples)).mean().item()
        print(f"D(real) {d_real:.5f} D(fake) {d_fake:.5f}")
        angles = torch.atan2(samples[:, 1], samples[:, 0])
        modes = torch.bincount(((angles + math.pi) / (2 * math.pi) * 8).long().clamp(0, 7),
                               minlength=8)
        print("samples per sector", modes.tolist())


if __name__ == "__main__":
    main()
