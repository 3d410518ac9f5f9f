// How a notebook references this library: as a NuGet package from the repository's own package folder
// (.packages/, named by the NuGet.Config at the repository root), `#r "nuget: ConceptErasure, <version>"`
// in the first code cell. Building the library packs it there (ConceptErasure.Package.targets), so the
// directive brings the library with its dependencies (and their native assets) in VS Code on any OS and in
// `workbook notebooks run` alike, offline. The version is fixed — a notebook's source never changes with a
// build — and every build that changes the library removes the stale copy from NuGet's global packages
// folder, so the next kernel restores the new one (a running kernel keeps what it loaded: restart it).
using System.Reflection;

namespace ConceptErasure.Workbook;

/// <summary>The library's package identity as notebooks reference it.</summary>
public static class LibraryPackage
{
    /// <summary>The NuGet package id.</summary>
    public const string Id = "ConceptErasure";

    /// <summary>The package version (the library's informational version without build metadata), e.g. "0.1.0-local".</summary>
    public static string Version { get; } =
        (typeof(LibraryPackage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    /// <summary>The first line of a notebook's first code cell: #r "nuget: ConceptErasure, &lt;version&gt;".</summary>
    public static string Directive => $"#r \"nuget: {Id}, {Version}\"";
}
