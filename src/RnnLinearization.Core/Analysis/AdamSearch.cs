using TorchSharp;
using static TorchSharp.torch;

namespace RnnLinearization.Core;

/// <summary>
/// Golub and Sussillo's joint optimisation, as the fixed-point toolkits run it: Adam (betas 0.9, 0.999, eps 1e-8) on
/// the mean of q over all starts, the learning rate multiplied by the factor when the mean q has not improved by a
/// relative 1e-4 for more than patience iterations (PyTorch's ReduceLROnPlateau); stops when every start has
/// q &lt; tol_q or |dq| &lt; tol_dq times the learning rate, or after max_iters.
/// </summary>
internal static class AdamSearch
{
    /// <summary>Where every start ended, after how many iterations, and whether the run stopped at max_iters.</summary>
    public static (double[][] States, int Iterations, bool Capped) Run(RnnModel model, double[] input, IReadOnlyList<double[]> starts,
        FixedPointOptions options, Action<FixedPointProgress>? progress, CancellationToken cancel)
    {
        const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        int s = model.StateSize, n = starts.Count;
        using var scope = torch.NewDisposeScope();
        var x = TensorData.FromRows(starts, s);
        var u = TensorData.FromRows(new[] { input }, model.InputSize).expand(n, model.InputSize);
        var m = torch.zeros_like(x);
        var v = torch.zeros_like(x);
        double lr = options.LearningRate, best = double.PositiveInfinity;
        int bad = 0, cooldown = 0, iteration = 1;
        bool capped = false;
        double[]? previous = null;
        for (; ; iteration++)
        {
            cancel.ThrowIfCancellationRequested();
            using var inner = torch.NewDisposeScope();
            double[] q;
            double mean;
            Tensor grad;
            using (torch.enable_grad())
            {
                var xg = x.detach().requires_grad_(true);
                var qb = 0.5 * (xg - model.DifferentiableStep(u, xg)).square().sum(1);
                var loss = qb.mean();
                grad = torch.autograd.grad(new[] { loss }, new[] { xg })[0];
                q = TensorData.Values(qb.detach()).ToArray();
                mean = loss.item<double>();
            }
            m.mul_(beta1).add_(grad * (1 - beta1));
            v.mul_(beta2).add_(grad.square() * (1 - beta2));
            double correction1 = 1 - Math.Pow(beta1, iteration), correction2 = 1 - Math.Pow(beta2, iteration);
            x.sub_(lr / correction1 * m / (v.sqrt() / Math.Sqrt(correction2) + eps));

            if (mean < best * (1 - 1e-4)) { best = mean; bad = 0; }
            else bad++;
            if (cooldown > 0) { cooldown--; bad = 0; }
            if (bad > options.LearningRatePatience)
            {
                double reduced = lr * options.LearningRateFactor;
                if (lr - reduced > 1e-8) { lr = reduced; cooldown = options.LearningRateCooldown; }
                bad = 0;
            }

            if (iteration % 50 == 0) progress?.Invoke(new FixedPointProgress(iteration, q.Count(v => v >= options.TolQ), n, q.Max()));
            if (previous is not null && q.Select((qb, b) => Math.Abs(qb - previous[b]) < options.TolDq * lr || qb < options.TolQ).All(done => done)) break;
            if (iteration + 1 > options.Iterations) { capped = true; break; }
            previous = q;
        }
        return (TensorData.ToRows(x), iteration, capped);
    }
}
