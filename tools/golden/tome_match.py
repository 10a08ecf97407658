"""ToMe's bipartite soft matching and merge in PyTorch (methods.md 3.1; Bolya et al., ICLR 2023), written from our
docs, not copied from the ToMe code. Shared by the golden-file generator (tome.py) and ToMe-in-the-loop training
(tools/train/vit/tome_forward.py), so the model is fine-tuned with exactly the rule the C# kernels are tested against.
"""
import torch
import torch.nn.functional as F


def match(metric, r, class_token, distill_token=False):
    """Steps 1-5: r clamped to (N - protected) / 2; returns r and the kept-A, merged-A and partner-B indices."""
    protected = int(class_token) + int(distill_token)
    n = metric.shape[1]
    r = min(r, (n - protected) // 2)
    m = F.normalize(metric.double(), dim=-1)
    a, b = m[:, 0::2], m[:, 1::2]
    scores = a @ b.transpose(-1, -2)
    if class_token:
        scores[:, 0, :] = float("-inf")
    if distill_token:
        scores[:, :, 0] = float("-inf")
    node_max, node_idx = scores.max(dim=-1)
    edge = torch.argsort(node_max, dim=-1, descending=True, stable=True)  # ties: lower index first
    unm, src = edge[:, r:], edge[:, :r]
    dst = torch.gather(node_idx, 1, src)
    if class_token:
        unm = unm.sort(dim=1).values
    return r, unm, src, dst


def merge(x, unm, src, dst, distill_token=False, mode="sum"):
    """Step 6: gather the kept A tokens, scatter-reduce the merged A tokens into their B partners, concatenate."""
    xa, xb = x[:, 0::2], x[:, 1::2]
    c = x.shape[-1]
    kept = torch.gather(xa, 1, unm[..., None].expand(-1, -1, c))
    moved = torch.gather(xa, 1, src[..., None].expand(-1, -1, c))
    xb = xb.scatter_reduce(1, dst[..., None].expand(-1, -1, c), moved, reduce=mode)
    if distill_token:
        return torch.cat([kept[:, :1], xb[:, :1], kept[:, 1:], xb[:, 1:]], dim=1)
    return torch.cat([kept, xb], dim=1)
