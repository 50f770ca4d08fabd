using System.Reflection;
using System.Text;

namespace WsGateway.Sbe.Tests;

/// <summary>
/// The public API of WsGateway.Sbe, frozen in PublicApi.txt: every member listed there must still exist with the same
/// signature (new members may be added). Regenerate the file only for a deliberate API change:
/// <c>SBE_UPDATE_PUBLIC_API=1 dotnet test tests/WsGateway.Sbe.Tests --filter PublicApi</c>.
/// </summary>
public sealed class PublicApiTests
{
    private static string ApiFile => Path.Combine(AppContext.BaseDirectory, "PublicApi.txt");

    [Fact]
    public void Every_frozen_public_member_still_exists()
    {
        string[] current = Describe(typeof(Trade).Assembly);
        if (Environment.GetEnvironmentVariable("SBE_UPDATE_PUBLIC_API") == "1")
        {
            string source = Path.Combine(SourceDirectory(), "PublicApi.txt");
            File.WriteAllLines(source, current);
            return;
        }

        string[] frozen = File.ReadAllLines(ApiFile).Where(l => l.Length > 0).ToArray();
        string[] missing = frozen.Except(current, StringComparer.Ordinal).ToArray();
        Assert.True(missing.Length == 0, "Public members removed or changed:\n" + string.Join("\n", missing));
        Assert.True(frozen.Length > 100, $"the frozen API file looks truncated: {frozen.Length} lines");
    }

    internal static string[] Describe(Assembly assembly)
    {
        var lines = new List<string>();
        foreach (Type type in assembly.GetExportedTypes())
        {
            string kind = type.IsEnum ? "enum" : type.IsValueType ? (type.IsByRefLike ? "ref struct" : "struct") : type.IsInterface ? "interface" : "class";
            lines.Add($"{kind} {type.FullName}");
            foreach (MemberInfo member in type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                lines.Add($"{type.FullName}::{Signature(member)}");
            }
        }

        lines.Sort(StringComparer.Ordinal);
        return [.. lines];
    }

    private static string Signature(MemberInfo member) => member switch
    {
        FieldInfo f when f.IsLiteral => $"const {Name(f.FieldType)} {f.Name} = {Convert.ToString(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)}",
        FieldInfo f => $"{(f.IsStatic ? "static " : string.Empty)}field {Name(f.FieldType)} {f.Name}",
        PropertyInfo p => $"{(p.GetMethod?.IsStatic == true ? "static " : string.Empty)}property {Name(p.PropertyType)} {p.Name}", // accessors: the get_/set_ lines
        ConstructorInfo c => $"ctor({Parameters(c)})",
        MethodInfo m when m.IsSpecialName => $"special {m.Name}({Parameters(m)})",
        MethodInfo m => $"{(m.IsStatic ? "static " : string.Empty)}method {Name(m.ReturnType)} {m.Name}({Parameters(m)})",
        _ => $"{member.MemberType} {member.Name}",
    };

    private static string Parameters(MethodBase method)
        => string.Join(", ", method.GetParameters().Select(p => (p.IsOut ? "out " : p.ParameterType.IsByRef ? (p.IsIn ? "in " : "ref ") : string.Empty) + Name(p.ParameterType)));

    private static string Name(Type type)
    {
        if (type.IsByRef)
        {
            return Name(type.GetElementType()!);
        }

        if (!type.IsGenericType)
        {
            return type.FullName ?? type.Name;
        }

        var sb = new StringBuilder(type.GetGenericTypeDefinition().FullName);
        sb.Append('<').Append(string.Join(",", type.GetGenericArguments().Select(Name))).Append('>');
        return sb.ToString();
    }

    private static string SourceDirectory()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "WsGateway.Sbe.Tests.csproj")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("tests/WsGateway.Sbe.Tests not found above the test output");
    }
}
