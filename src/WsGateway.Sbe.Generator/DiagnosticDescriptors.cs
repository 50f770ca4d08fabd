using Microsoft.CodeAnalysis;

namespace WsGateway.Sbe.Generator;

/// <summary>Diagnostics of the SBE generator. Each names the schema file, line and problem.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "SbeGenerator";

    public static readonly DiagnosticDescriptor InvalidXml = Create(
        "WSGW001", "SBE schema is not valid XML", "SBE schema is not valid XML: {0}");

    public static readonly DiagnosticDescriptor UnknownType = Create(
        "WSGW002", "Unknown type reference", "Unknown type '{0}' referenced by '{1}'");

    public static readonly DiagnosticDescriptor Duplicate = Create(
        "WSGW003", "Duplicate name or id", "Duplicate {0} '{1}' in '{2}'");

    public static readonly DiagnosticDescriptor InvalidOffset = Create(
        "WSGW004", "Invalid offset or blockLength", "{0}");

    public static readonly DiagnosticDescriptor InvalidSinceVersion = Create(
        "WSGW005", "Invalid sinceVersion", "'{0}' has sinceVersion {1}, greater than the schema version {2}");

    public static readonly DiagnosticDescriptor InvalidAttribute = Create(
        "WSGW006", "Missing or invalid attribute", "{0}");

    public static readonly DiagnosticDescriptor InvalidValue = Create(
        "WSGW007", "Invalid value", "{0}");

    public static readonly DiagnosticDescriptor InvalidName = Create(
        "WSGW008", "Invalid name", "'{0}' is not a valid SBE name (letters, digits and '_', not starting with a digit)");

    public static readonly DiagnosticDescriptor IncludeNotFound = Create(
        "WSGW009", "Included file not found", "xi:include '{0}' not found: add '{1}' to AdditionalFiles");

    public static readonly DiagnosticDescriptor InvalidComposite = Create(
        "WSGW010", "Invalid composite", "{0}");

    public static readonly DiagnosticDescriptor InvalidOrder = Create(
        "WSGW011", "Invalid element order", "'{0}' must come before the groups and var data of '{1}' (fields, then groups, then data)");

    public static readonly DiagnosticDescriptor CyclicType = Create(
        "WSGW012", "Cyclic type reference", "Type '{0}' refers to itself");

    public static readonly DiagnosticDescriptor DuplicateOutput = Create(
        "WSGW013", "Duplicate generated file", "Schema '{0}' generates '{1}', which another schema already generates; give one of them a different file name");

    public static readonly DiagnosticDescriptor InternalError = Create(
        "WSGW099", "Internal SBE generator error", "The SBE generator failed on this schema: {0}");

    private static DiagnosticDescriptor Create(string id, string title, string message)
        => new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
}
