using System.Reflection;
using System.Runtime.Loader;
using WsGateway.Sinks;

namespace WsGateway.Cli.Sinks;

/// <summary>
/// The sinks <c>wsgw</c> does not carry: <c>kafka://</c> needs Confluent.Kafka and librdkafka (about 100 MB of native
/// libraries for every platform, 20–40 MB for one), which would be most of the install for users who never name
/// Kafka. <c>wsgw sink install kafka</c> puts the <c>WsGateway.Sinks.Kafka</c> package, for this machine's platform
/// only, in a folder of its own; <see cref="Plan"/> loads it from there the first time a <c>kafka://</c> sink is named.
/// </summary>
/// <remarks>
/// Where a sink is looked for, first found wins (<see cref="Folders"/>): <c>$WSGW_SINKS/&lt;scheme&gt;</c>, then
/// <c>sinks/&lt;scheme&gt;</c> beside <c>wsgw.dll</c> (a build from the repository copies the Kafka sink there), then
/// the user's <c>~/.local/share/wsgw/sinks/&lt;scheme&gt;</c> (where <c>wsgw sink install</c> puts it). The sink runs
/// in an <see cref="AssemblyLoadContext"/> of its own that shares the gateway's assemblies (the sink implements
/// <see cref="ITradeSink"/> of the very <c>WsGateway.Sinks</c> the tool runs) and loads the rest, native libraries
/// included, from its folder.
/// </remarks>
internal static class SinkPlugins
{
    /// <summary>The environment variable naming a folder of sinks (one subfolder per scheme).</summary>
    public const string FolderVariable = "WSGW_SINKS";

    /// <summary>The user's folder of sinks, where <c>wsgw sink install</c> puts them by default.</summary>
    public static string UserFolder => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "wsgw", "sinks");

    /// <summary>The folders a sink of <paramref name="scheme"/> is looked for in, in order.</summary>
    public static IReadOnlyList<string> Folders(string scheme)
    {
        var folders = new List<string>(3);
        if (Environment.GetEnvironmentVariable(FolderVariable) is { Length: > 0 } configured)
        {
            folders.Add(Path.Combine(Path.GetFullPath(configured), scheme));
        }

        folders.Add(Path.Combine(AppContext.BaseDirectory, "sinks", scheme));
        folders.Add(Path.Combine(UserFolder, scheme));
        return folders;
    }

    /// <summary><see cref="SinkFactory.Plan"/>, after loading the sink of the value's scheme when the tool does not
    /// carry it.</summary>
    /// <exception cref="FormatException">The value is not valid, or its sink is not installed: the message says which
    /// command installs it.</exception>
    public static SinkPlan Plan(string text)
    {
        string scheme = SinkUri.Parse(text).Scheme;
        if (!SinkFactory.IsRegistered(scheme) && SinkFactory.PackageOf(scheme) is { } package)
        {
            Load(scheme, package);
        }

        return SinkFactory.Plan(text);
    }

    private static void Load(string scheme, string package)
    {
        IReadOnlyList<string> folders = Folders(scheme);
        foreach (string folder in folders)
        {
            if (FindEntry(folder, package) is not { } entry)
            {
                continue;
            }

            Assembly assembly;
            try
            {
                var context = new SinkLoadContext(scheme, entry);
                assembly = context.LoadFromAssemblyName(new AssemblyName(package));
            }
            catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
            {
                throw new FormatException($"--sink {scheme}://: the {scheme} sink in {folder} could not be loaded ({e.Message}); install it again with: wsgw sink install {scheme}", e);
            }

            string? built = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
            string? tool = typeof(SinkPlugins).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
            if (SinkInstaller.PackageVersion(built) != SinkInstaller.PackageVersion(tool))
            {
                throw new FormatException($"--sink {scheme}://: the {scheme} sink in {folder} is version {SinkInstaller.PackageVersion(built)}, this wsgw is {SinkInstaller.PackageVersion(tool)}; install the matching one with: wsgw sink install {scheme}");
            }

            foreach (Type type in assembly.GetExportedTypes())
            {
                if (typeof(ITradeSinkScheme).IsAssignableFrom(type) && !type.IsAbstract && Activator.CreateInstance(type) is ITradeSinkScheme found && found.Scheme == scheme)
                {
                    SinkFactory.Register(found);
                    return;
                }
            }

            throw new FormatException($"--sink {scheme}://: {entry} has no {nameof(ITradeSinkScheme)} for {scheme}://");
        }

        throw new FormatException($"--sink {scheme}://: the {scheme} sink is not installed (it carries librdkafka, which wsgw leaves out to stay small); "
            + $"install it with: wsgw sink install {scheme} (looked in {string.Join(", ", folders)})");
    }

    /// <summary>The assembly whose dependencies describe the folder: the one <c>wsgw sink install</c> publishes
    /// (<c>wsgw-sink-kafka.dll</c>, its .deps.json listing the package and this platform's native library), or the
    /// package's own build output (<c>WsGateway.Sinks.Kafka.dll</c>, every platform's).</summary>
    private static string? FindEntry(string folder, string package)
    {
        foreach (string name in (string[])[SinkInstaller.EntryName(package), package])
        {
            string path = Path.Combine(folder, name + ".dll");
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    /// <summary>A sink's assemblies: the gateway's own (and the framework's) are shared with the tool; the rest comes
    /// from the sink's folder, as its .deps.json says or, failing that, by file name.</summary>
    private sealed class SinkLoadContext(string scheme, string entry) : AssemblyLoadContext($"wsgw sink {scheme}")
    {
        private static readonly HashSet<string> s_shared = SharedAssemblies();
        private readonly AssemblyDependencyResolver _resolver = new(entry);
        private readonly string _folder = Path.GetDirectoryName(entry)!;

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            if (assemblyName.Name is null || s_shared.Contains(assemblyName.Name))
            {
                return null;
            }

            string? path = _resolver.ResolveAssemblyToPath(assemblyName);
            if (path is null && File.Exists(Path.Combine(_folder, assemblyName.Name + ".dll")))
            {
                path = Path.Combine(_folder, assemblyName.Name + ".dll");
            }

            return path is null ? null : LoadFromAssemblyPath(path);
        }

        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
        {
            string? path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
            if (path is null)
            {
                // A publish for one platform puts the native libraries beside the assemblies.
                foreach (string name in (string[])[unmanagedDllName, unmanagedDllName + ".so", "lib" + unmanagedDllName + ".so", unmanagedDllName + ".dylib", unmanagedDllName + ".dll"])
                {
                    if (File.Exists(Path.Combine(_folder, name)))
                    {
                        path = Path.Combine(_folder, name);
                        break;
                    }
                }
            }

            return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
        }

        /// <summary>The simple names of every assembly the tool itself was started with (its own and the shared
        /// frameworks'): these are never loaded a second time from a sink's folder.</summary>
        private static HashSet<string> SharedAssemblies()
        {
            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string list)
            {
                foreach (string path in list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                {
                    names.Add(Path.GetFileNameWithoutExtension(path));
                }
            }

            return names;
        }
    }
}
