// Formatter extensions of NuGet packages, loaded the way the dotnet-interactive tool loads them (its loader
// lives in the tool, not in the library packages, so a host has to do the same itself): after each command,
// every package added by #r "nuget: …" whose folder has interactive-extensions/dotnet/ gets each DLL there
// loaded into the default load context, each public IKernelExtension in it created and its OnLoadAsync run
// with the root kernel, and an extension.dib there run as a notebook. This is how Microsoft.Data.Analysis
// registers its DataFrame → HTML table formatter. Unlike the tool, the loader does not display "Loading
// extensions from <path>" in the cell (an absolute path in a committed output); it notes it on the log.
using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Events;

namespace ConceptErasure.Notebooks;

internal static class ExtensionLoader
{
    private const string ExtensionScript = "extension.dib";

    /// <summary>Loads extensions of packages added by any command, once per package folder.</summary>
    public static void Attach(CompositeKernel kernel, Action<string> note)
    {
        var pending = new ConcurrentQueue<string>();
        var seenRoots = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var loaded = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);

        kernel.RegisterForDisposal(kernel.KernelEvents.Subscribe(e =>
        {
            if (e is PackageAdded { PackageReference.PackageRoot: { } root } && seenRoots.TryAdd(root, true)) pending.Enqueue(root);
        }));

        kernel.AddMiddleware(async (command, context, next) =>
        {
            await next(command, context);
            while (pending.TryDequeue(out var root))
            {
                var dir = new DirectoryInfo(Path.Combine(root, "interactive-extensions", "dotnet"));
                if (!dir.Exists) continue;
                foreach (var dll in dir.GetFiles("*.dll", SearchOption.TopDirectoryOnly).OrderBy(f => f.Name, StringComparer.Ordinal))
                {
                    if (!loaded.TryAdd(AssemblyName.GetAssemblyName(dll.FullName).FullName, true)) continue;
                    var assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(dll.FullName);
                    foreach (var type in assembly.ExportedTypes.Where(IsExtension))
                    {
                        var extension = (IKernelExtension)Activator.CreateInstance(type)!;
                        try
                        {
                            await extension.OnLoadAsync(kernel);
                            context.Publish(new KernelExtensionLoaded(extension, context.Command));
                            note($"loaded kernel extension {type.FullName} ({Path.GetFileName(dll.FullName)} of {PackageName(root)})");
                        }
                        catch (Exception ex)
                        {
                            context.Fail(context.Command, new KernelExtensionLoadException(ex),
                                $"Failed to load kernel extension \"{type.Name}\" of {PackageName(root)}: {ex.Message}");
                        }
                    }
                }
                var script = new FileInfo(Path.Combine(dir.FullName, ExtensionScript));
                if (script.Exists)
                {
                    note($"running {ExtensionScript} of {PackageName(root)}");
                    await kernel.LoadAndRunInteractiveDocument(script, context.Command);
                }
            }
        });
    }

    private static bool IsExtension(Type t) =>
        t is { IsAbstract: false, IsInterface: false, IsGenericTypeDefinition: false } && typeof(IKernelExtension).IsAssignableFrom(t);

    /// <summary>"name version" from a package folder such as ~/.nuget/packages/name/version/.</summary>
    private static string PackageName(string root)
    {
        var dir = new DirectoryInfo(root.TrimEnd('/', '\\'));
        return dir.Parent is null ? dir.Name : $"{dir.Parent.Name} {dir.Name}";
    }
}
