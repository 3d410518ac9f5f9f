// The switches a notebook reads about how it is being run. `workbook notebooks run --fast` sets the
// environment variable WORKBOOK_FAST=1; notebooks read it through Run.Fast (or Run.Choose) to shrink
// iterations so that CI can execute every notebook quickly. The environment variable is the single source
// of truth, so every loaded copy of this assembly agrees, and Polyglot Notebooks (where it is unset) runs
// the full-size version.
namespace ConceptErasure.Workbook;

/// <summary>How the current notebook run was asked to behave.</summary>
public static class Run
{
    /// <summary>The environment variable that turns fast mode on ("1" or "true").</summary>
    public const string FastVariable = "WORKBOOK_FAST";

    /// <summary>True when notebooks should use small iteration counts (set by `notebooks run --fast`).</summary>
    public static bool Fast
    {
        get
        {
            var v = Environment.GetEnvironmentVariable(FastVariable);
            return v is not null && (v.Trim() == "1" || v.Trim().Equals("true", StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>Picks the full-size value normally and the small one in fast mode.</summary>
    public static T Choose<T>(T full, T fast) => Fast ? fast : full;
}
