using System.Globalization;

namespace WsGateway.Sbe.Schema.Model;

/// <summary>
/// A kind of schema problem: its stable id (<c>WSGWnnn</c>), title and message format (<c>{0}</c>, <c>{1}</c>, ... are
/// the arguments of a <see cref="DiagnosticInfo"/>). The source generator makes its Roslyn <c>DiagnosticDescriptor</c>s
/// from these, so the generator and the run-time schema reader say the same words.
/// </summary>
internal sealed record SchemaDiagnostic(string Id, string Title, string MessageFormat, SchemaDiagnosticSeverity Severity = SchemaDiagnosticSeverity.Error)
{
    /// <summary>The message with <paramref name="arguments"/> put in, as Roslyn formats a descriptor's message.</summary>
    public string FormatMessage(IReadOnlyList<string> arguments)
    {
        object[] values = new object[arguments.Count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = arguments[i];
        }

        return string.Format(CultureInfo.InvariantCulture, MessageFormat, values);
    }
}

/// <summary>Every kind of SBE schema problem the parser (and the generator) reports. Each names the file, line and problem.</summary>
internal static class SchemaDiagnostics
{
    /// <summary>The ids as constants (the generator's analyzer release tracking reads its descriptors' ids as constants).</summary>
    public static class Ids
    {
        public const string InvalidXml = "WSGW001";
        public const string UnknownType = "WSGW002";
        public const string Duplicate = "WSGW003";
        public const string InvalidOffset = "WSGW004";
        public const string InvalidSinceVersion = "WSGW005";
        public const string InvalidAttribute = "WSGW006";
        public const string InvalidValue = "WSGW007";
        public const string InvalidName = "WSGW008";
        public const string IncludeNotFound = "WSGW009";
        public const string InvalidComposite = "WSGW010";
        public const string InvalidOrder = "WSGW011";
        public const string CyclicType = "WSGW012";
        public const string DuplicateOutput = "WSGW013";
        public const string InternalError = "WSGW099";
    }

    public static readonly SchemaDiagnostic InvalidXml = new(
        Ids.InvalidXml, "SBE schema is not valid XML", "SBE schema is not valid XML: {0}");

    public static readonly SchemaDiagnostic UnknownType = new(
        Ids.UnknownType, "Unknown type reference", "Unknown type '{0}' referenced by '{1}'");

    public static readonly SchemaDiagnostic Duplicate = new(
        Ids.Duplicate, "Duplicate name or id", "Duplicate {0} '{1}' in '{2}'");

    public static readonly SchemaDiagnostic InvalidOffset = new(
        Ids.InvalidOffset, "Invalid offset or blockLength", "{0}");

    public static readonly SchemaDiagnostic InvalidSinceVersion = new(
        Ids.InvalidSinceVersion, "Invalid sinceVersion", "'{0}' has sinceVersion {1}, greater than the schema version {2}");

    public static readonly SchemaDiagnostic InvalidAttribute = new(
        Ids.InvalidAttribute, "Missing or invalid attribute", "{0}");

    public static readonly SchemaDiagnostic InvalidValue = new(
        Ids.InvalidValue, "Invalid value", "{0}");

    public static readonly SchemaDiagnostic InvalidName = new(
        Ids.InvalidName, "Invalid name", "'{0}' is not a valid SBE name (letters, digits and '_', not starting with a digit)");

    public static readonly SchemaDiagnostic IncludeNotFound = new(
        Ids.IncludeNotFound, "Included file not found", "xi:include '{0}' not found: add '{1}' to AdditionalFiles");

    public static readonly SchemaDiagnostic InvalidComposite = new(
        Ids.InvalidComposite, "Invalid composite", "{0}");

    public static readonly SchemaDiagnostic InvalidOrder = new(
        Ids.InvalidOrder, "Invalid element order", "'{0}' must come before the groups and var data of '{1}' (fields, then groups, then data)");

    public static readonly SchemaDiagnostic CyclicType = new(
        Ids.CyclicType, "Cyclic type reference", "Type '{0}' refers to itself");

    public static readonly SchemaDiagnostic DuplicateOutput = new(
        Ids.DuplicateOutput, "Duplicate generated file", "Schema '{0}' generates '{1}', which another schema already generates; give one of them a different file name");

    public static readonly SchemaDiagnostic InternalError = new(
        Ids.InternalError, "Internal SBE generator error", "The SBE generator failed on this schema: {0}");

    /// <summary>Every kind, in id order.</summary>
    public static readonly IReadOnlyList<SchemaDiagnostic> All =
    [
        InvalidXml, UnknownType, Duplicate, InvalidOffset, InvalidSinceVersion, InvalidAttribute, InvalidValue,
        InvalidName, IncludeNotFound, InvalidComposite, InvalidOrder, CyclicType, DuplicateOutput, InternalError,
    ];

    /// <summary>The kind with <paramref name="id"/>.</summary>
    public static SchemaDiagnostic Get(string id)
    {
        foreach (SchemaDiagnostic kind in All)
        {
            if (kind.Id == id)
            {
                return kind;
            }
        }

        throw new ArgumentException($"'{id}' is not an SBE schema diagnostic id (WSGW001 to WSGW013, WSGW099)", nameof(id));
    }
}
