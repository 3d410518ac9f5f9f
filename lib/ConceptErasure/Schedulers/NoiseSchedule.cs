// NoiseSchedule.cs — the forward diffusion process of DDPM (Ho et al. 2020) with Stable Diffusion's
// "scaled linear" β schedule, and the conversions between what a network predicts and what the papers' losses
// are written in:
//   q(z_t | z_0) = N(√ᾱ_t z_0, (1 − ᾱ_t) I),   ᾱ_t = Π_{s≤t} (1 − β_s),   β = linspace(√β₀, √β₁, T)²
//   ε-prediction: network ≈ ε;   v-prediction (Salimans & Ho 2022): network ≈ v = √ᾱ ε − √(1−ᾱ) z_0
//   ε̂ = √ᾱ v̂ + √(1−ᾱ) z_t,   ẑ₀ = √ᾱ z_t − √(1−ᾱ) v̂ = (z_t − √(1−ᾱ) ε̂)/√ᾱ
// Pure: holds only the ᾱ table; every method maps tensors to tensors.
using ConceptErasure.Engine;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ConceptErasure.Schedulers;

public enum Prediction { Epsilon, V }

public sealed class NoiseSchedule
{
    public const int DefaultTrainSteps = 1000;
    /// <summary>ᾱ_t for t = 0 … T−1 (double precision, on the host).</summary>
    public double[] AlphasCumprod { get; }
    public int TrainSteps => AlphasCumprod.Length;

    public NoiseSchedule(int trainSteps = DefaultTrainSteps, double betaStart = 0.00085, double betaEnd = 0.012)
    {
        if (trainSteps < 2) throw new ArgumentOutOfRangeException(nameof(trainSteps));
        if (!(0 < betaStart && betaStart < betaEnd && betaEnd < 1)) throw new ArgumentException("need 0 < beta_start < beta_end < 1");
        AlphasCumprod = new double[trainSteps];
        double a = Math.Sqrt(betaStart), b = Math.Sqrt(betaEnd), prod = 1;
        for (var t = 0; t < trainSteps; t++)
        {
            var sqrtBeta = a + (b - a) * t / (trainSteps - 1);
            prod *= 1 - sqrtBeta * sqrtBeta;
            AlphasCumprod[t] = prod;
        }
    }

    public static Prediction ParsePrediction(string s) => s switch
    {
        "epsilon" => Prediction.Epsilon,
        "v_prediction" => Prediction.V,
        _ => throw new ArgumentException($"unknown prediction type '{s}' (epsilon | v_prediction)"),
    };

    /// <summary>ᾱ_t gathered for a batch of timesteps, shaped (B, 1, 1, 1) to broadcast over latents.</summary>
    public Tensor Alpha(Tensor timesteps, Tensor like)
    {
        var ts = timesteps.data<long>().ToArray();
        var values = ts.Select(t => AlphasCumprod[CheckT(t)]).ToArray();
        using var host = torch.tensor(values, [values.Length, 1, 1, 1]);
        return host.to(like.dtype, like.device);
    }
    long CheckT(long t) => t >= 0 && t < TrainSteps ? t : throw new ArgumentOutOfRangeException(nameof(t), $"timestep {t} outside [0, {TrainSteps})");

    /// <summary>z_t = √ᾱ z_0 + √(1−ᾱ) ε.</summary>
    public Tensor AddNoise(Tensor z0, Tensor noise, Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        var a = Alpha(timesteps, z0);
        return (z0 * a.sqrt() + noise * (1.0 - a).sqrt()).MoveToOuterDisposeScope();
    }

    /// <summary>The training target of the network for the given parameterisation.</summary>
    public Tensor Target(Prediction p, Tensor z0, Tensor noise, Tensor timesteps)
    {
        if (p == Prediction.Epsilon) return noise.alias();
        using var scope = NewDisposeScope();
        var a = Alpha(timesteps, z0);
        return (noise * a.sqrt() - z0 * (1.0 - a).sqrt()).MoveToOuterDisposeScope();   // v = √ᾱ ε − √(1−ᾱ) z_0
    }

    /// <summary>ε̂ from the network output (identity for ε-prediction; √ᾱ v̂ + √(1−ᾱ) z_t for v).</summary>
    public Tensor Epsilon(Prediction p, Tensor output, Tensor zt, Tensor timesteps)
    {
        if (p == Prediction.Epsilon) return output.alias();
        using var scope = NewDisposeScope();
        var a = Alpha(timesteps, zt);
        return (output * a.sqrt() + zt * (1.0 - a).sqrt()).MoveToOuterDisposeScope();
    }

    /// <summary>ẑ₀ = (z_t − √(1−ᾱ) ε̂)/√ᾱ, from the network output.</summary>
    public Tensor X0(Prediction p, Tensor output, Tensor zt, Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        var a = Alpha(timesteps, zt);
        var x0 = p == Prediction.V
            ? zt * a.sqrt() - output * (1.0 - a).sqrt()
            : (zt - output * (1.0 - a).sqrt()) / a.sqrt();
        return x0.MoveToOuterDisposeScope();
    }
}
