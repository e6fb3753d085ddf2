"""The paper's methods on one backbone (Table 6). Each method says how many outputs the
network has, its training loss, and how to turn outputs into a prediction."""
import torch
import torch.nn.functional as F

from .labels import expectation, label_distribution, mean_matched_distribution

METHODS = ["dldl-v2", "dldl", "er", "dex", "ranking", "mr-l1", "mr-l2"]


def to_unit(y: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """MR's target (Section 4.5.4): y mapped linearly from [l_min, l_max] onto [-1, 1]."""
    lo, hi = float(labels[0]), float(labels[-1])
    return 2 * (y.clamp(lo, hi) - lo) / (hi - lo) - 1


def from_unit(t: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The inverse of `to_unit`: a tanh output in [-1, 1] back on the label scale."""
    lo, hi = float(labels[0]), float(labels[-1])
    return lo + (t + 1) * (hi - lo) / 2


class Method:
    def __init__(self, name: str, labels: torch.Tensor, lam: float = 1.0, match_mean: bool = False):
        if name not in METHODS:
            raise ValueError(f"unknown method {name!r}; one of {METHODS}")
        self.name, self.lam, self.match_mean = name, lam, match_mean
        self.labels = labels.float()

    @property
    def outputs(self) -> int:
        k = self.labels.numel()
        return {"ranking": k - 1, "mr-l1": 1, "mr-l2": 1}.get(self.name, k)

    @property
    def has_distribution(self) -> bool:
        return self.name in ("dldl-v2", "dldl", "er", "dex")

    def loss(self, out: torch.Tensor, y: torch.Tensor, sigma: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        """target: a distribution [N,K] to learn instead of Eq. 1's (distillation); y still drives
        the expectation term."""
        labels = self.labels
        y = y.float()
        n = self.name
        if n in ("mr-l1", "mr-l2"):
            # The paper's MR: one output through tanh, regressed onto the target in [-1, 1].
            err = torch.tanh(out.squeeze(1)) - to_unit(y, labels)
            return err.abs().mean() if n == "mr-l1" else 0.5 * (err**2).mean()
        if n == "ranking":
            # K-1 binary tasks "is y > l_k?" (Ranking-CNN), sigmoid cross entropy.
            targets = (y.unsqueeze(1) > labels[:-1].unsqueeze(0)).float()
            return F.binary_cross_entropy_with_logits(out, targets)
        logp = F.log_softmax(out, dim=1)
        if n == "dex":
            cls = torch.bucketize(y.clamp(float(labels[0]), float(labels[-1])), labels)
            return F.nll_loss(logp, cls)
        yhat = expectation(logp.exp(), labels)
        l1 = (yhat - y).abs().mean()
        if n == "er":
            return l1
        if target is None:
            target = self.target(y, sigma)
        kl = F.kl_div(logp, target, reduction="batchmean")  # KL(p || p̂)
        return kl if n == "dldl" else kl + self.lam * l1

    def target(self, y: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """The label distribution learnt for label y: Eq. 1, or its mean-matched variant."""
        make = mean_matched_distribution if self.match_mean else label_distribution
        return make(y.float(), sigma, self.labels.double()).float()

    def predict(self, out: torch.Tensor) -> torch.Tensor:
        if self.name in ("mr-l1", "mr-l2"):
            return from_unit(torch.tanh(out.squeeze(1)), self.labels)
        if self.name == "ranking":
            step = float(self.labels[1] - self.labels[0])
            return self.labels[0] + step * (torch.sigmoid(out) > 0.5).sum(dim=1).float()
        return expectation(torch.softmax(out, dim=1), self.labels)

    def probs(self, out: torch.Tensor) -> torch.Tensor | None:
        return torch.softmax(out, dim=1) if self.has_distribution else None
