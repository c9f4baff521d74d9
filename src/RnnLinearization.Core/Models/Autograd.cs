using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>
/// Jacobians of any batched step by reverse-mode autograd (TorchSharp has no autograd.functional.jacobian):
/// one backward pass per output unit, all states of the batch together. Summing output unit i over the batch and
/// taking its gradient gives row i of every state's Jacobian at once, because rows of a batch do not interact.
/// The path for cells without a closed form (TorchScript), and the independent check of the closed forms.
/// </summary>
public static class Autograd
{
    /// <summary>Next states [B, S], d next/d state [B, S, S] and d next/d input [B, S, I] of <paramref name="step"/> at a batch.</summary>
    public static (Tensor Next, Tensor StateJacobian, Tensor InputJacobian) Linearize(Func<Tensor, Tensor, Tensor> step, Tensor input, Tensor state)
    {
        using var grad = torch.enable_grad();
        var x = input.detach().requires_grad_(true);
        var h = state.detach().requires_grad_(true);
        var next = step(x, h);
        long batch = state.shape[0], s = next.shape[1];
        var ones = torch.ones(batch, next.dtype);
        var rowsH = new Tensor[s];
        var rowsX = new Tensor[s];
        for (long i = 0; i < s; i++)
        {
            // A unit that does not depend on h or x (allow_unused) has a zero row.
            var g = torch.autograd.grad(new[] { next.select(1, i) }, new[] { h, x }, new[] { ones },
                retain_graph: i < s - 1, create_graph: false, allow_unused: true);
            rowsH[i] = Present(g[0]) ? g[0] : torch.zeros_like(h);
            rowsX[i] = Present(g[1]) ? g[1] : torch.zeros_like(x);
        }
        return (next.detach(), torch.stack(rowsH, 1), torch.stack(rowsX, 1));
    }

    private static bool Present(Tensor? t) => t is not null && !t.IsInvalid && t.numel() > 0;
}
