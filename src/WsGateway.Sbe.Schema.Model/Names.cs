namespace WsGateway.Sbe.Schema.Model;

/// <summary>
/// SBE names to C# identifiers, the way sbe-tool's C# generator spells them. The parser names the model's types with
/// them (so that two schema names that would become one C# type are found), the emitters name members with them.
/// </summary>
internal static class Names
{
    /// <summary>
    /// C#'s reserved keywords (Roslyn's <c>SyntaxFacts.GetReservedKeywordKinds</c>, which a test compares with this):
    /// an identifier spelled as one is escaped with <c>@</c>. Contextual keywords are valid identifiers and are not here.
    /// </summary>
    private static readonly HashSet<string> s_keywords = new(StringComparer.Ordinal)
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
        "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
        "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
        "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override",
        "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof",
        "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof", "uint",
        "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
        "__arglist", "__makeref", "__reftype", "__refvalue",
    };

    public static bool IsValidSbeName(string name)
    {
        if (name.Length == 0 || !(char.IsLetter(name[0]) || name[0] == '_'))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A type name: first letter upper case (messageHeader → MessageHeader).</summary>
    public static string Type(string name) => Identifier(UpperFirst(name));

    /// <summary>A property or method name part: first letter upper case.</summary>
    public static string Member(string name) => UpperFirst(name);

    /// <summary>An identifier as written, escaped with @ when it is a C# keyword.</summary>
    public static string Identifier(string name)
        => s_keywords.Contains(name) ? "@" + name : name;

    /// <summary>A camelCase parameter or local name.</summary>
    public static string Camel(string name) => Identifier(name.Length == 0 ? name : char.ToLowerInvariant(name[0]) + name.Substring(1));

    /// <summary>The C# namespace for an SBE package: each dot-separated part sanitised and capitalised.</summary>
    public static string Namespace(string package)
    {
        var parts = new List<string>();
        foreach (string part in package.Split('.'))
        {
            var builder = new System.Text.StringBuilder();
            foreach (char c in part.Trim())
            {
                builder.Append(char.IsLetterOrDigit(c) || c == '_' ? c : '_');
            }

            string cleaned = builder.ToString();
            if (cleaned.Length == 0)
            {
                continue;
            }

            if (char.IsDigit(cleaned[0]))
            {
                cleaned = "_" + cleaned;
            }

            parts.Add(Identifier(UpperFirst(cleaned)));
        }

        return parts.Count == 0 ? "Sbe" : string.Join(".", parts);
    }

    private static string UpperFirst(string name)
        => name.Length == 0 || char.IsUpper(name[0]) ? name : char.ToUpperInvariant(name[0]) + name.Substring(1);
}

/// <summary>Path arithmetic for xi:include (no file system access: generators must not read files).</summary>
internal static class Paths
{
    public static string Normalize(string path)
    {
        string slashed = path.Replace('\\', '/');
        bool rooted = slashed.StartsWith("/", StringComparison.Ordinal);
        var parts = new List<string>();
        foreach (string part in slashed.Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }

            if (part == ".." && parts.Count > 0 && parts[parts.Count - 1] != "..")
            {
                parts.RemoveAt(parts.Count - 1);
            }
            else
            {
                parts.Add(part);
            }
        }

        string joined = string.Join("/", parts);
        return rooted ? "/" + joined : joined;
    }

    public static string Directory(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash < 0 ? string.Empty : path.Substring(0, slash);
    }

    public static string Combine(string directory, string relative)
    {
        string slashed = relative.Replace('\\', '/');
        if (slashed.StartsWith("/", StringComparison.Ordinal) || (slashed.Length > 1 && slashed[1] == ':'))
        {
            return Normalize(slashed);
        }

        return Normalize(directory.Length == 0 ? slashed : directory + "/" + slashed);
    }

    public static string FileNameWithoutExtension(string path)
    {
        string name = path.Substring(path.LastIndexOf('/') + 1);
        int dot = name.LastIndexOf('.');
        return dot > 0 ? name.Substring(0, dot) : name;
    }
}
