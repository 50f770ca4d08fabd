using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using WsGateway.Sbe.Schema.Model;

namespace WsGateway.Sbe.Schema;

/// <summary>
/// An SBE XML schema read at run time, with the parser the source generator uses (the same offsets, block lengths,
/// versions and WSGW diagnostics as the generated code). Decode its messages with <see cref="SbeJsonDecoder"/>.
/// </summary>
public sealed class SbeSchema
{
    private const string XIncludeNamespace = "http://www.w3.org/2001/XInclude";

    private readonly Dictionary<string, NamedTypeModel> _types;
    private readonly Dictionary<int, MessageModel> _messages;

    private SbeSchema(SchemaModel model)
    {
        Model = model;
        _types = new Dictionary<string, NamedTypeModel>(StringComparer.Ordinal);
        foreach (NamedTypeModel type in model.Types)
        {
            _types[type.Name] = type;
        }

        _messages = [];
        foreach (MessageModel message in model.Messages)
        {
            _messages[message.Id] = message;
        }

        if (_types.TryGetValue(model.Header.TypeName, out NamedTypeModel? header) && header is CompositeModel composite)
        {
            HeaderComposite = composite;
        }
        else
        {
            throw new SbeSchemaException(model.FilePath, [$"{model.FilePath}: header type '{model.Header.TypeName}' is not a composite of the schema"]);
        }

        Messages = model.Messages.Select(m => new SbeMessageInfo(m.Name, m.Id, m.BlockLength, m.SinceVersion)).ToArray();
    }

    /// <summary>The schema's <c>package</c> attribute.</summary>
    public string Package => Model.Package;

    /// <summary>The schema id that every message header must carry.</summary>
    public int Id => Model.Id;

    /// <summary>The schema version (the newest version this schema describes).</summary>
    public int Version => Model.Version;

    /// <summary>True when the schema's <c>byteOrder</c> is <c>bigEndian</c>.</summary>
    public bool IsBigEndian => Model.BigEndian;

    /// <summary>The name of the message header composite (the schema's <c>headerType</c>).</summary>
    public string HeaderTypeName => HeaderComposite.Name;

    /// <summary>The encoded size of the message header in bytes.</summary>
    public int HeaderSize => Model.Header.Size;

    /// <summary>The messages of the schema, in schema order.</summary>
    public IReadOnlyList<SbeMessageInfo> Messages { get; }

    internal SchemaModel Model { get; }

    internal CompositeModel HeaderComposite { get; }

    /// <summary>Reads a schema file, following <c>xi:include</c> relative to it.</summary>
    /// <param name="path">The schema file.</param>
    /// <returns>The parsed schema.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="SbeSchemaException">The schema has errors; the message lists each WSGW diagnostic with file:line.</exception>
    public static SbeSchema Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"SBE schema not found: {full}", full);
        }

        return Parse(File.ReadAllText(full), full);
    }

    /// <summary>Parses schema XML; <c>xi:include</c> files are read from disk relative to <paramref name="path"/>.</summary>
    /// <param name="xml">The schema XML.</param>
    /// <param name="path">Where the XML comes from: names it in diagnostics and anchors relative includes.</param>
    /// <returns>The parsed schema.</returns>
    /// <exception cref="SbeSchemaException">The schema has errors; the message lists each WSGW diagnostic with file:line.</exception>
    public static SbeSchema Parse(string xml, string path = "schema.xml")
    {
        ArgumentNullException.ThrowIfNull(xml);
        ArgumentNullException.ThrowIfNull(path);
        string normalized = Paths.Normalize(Path.GetFullPath(path));
        var file = new SchemaFile(normalized, xml, null);
        var files = new Dictionary<string, SchemaFile>(StringComparer.Ordinal) { [normalized] = file };
        CollectIncludes(file, files);

        ParseResult result = Parser.Parse(file, [.. files.Values], CancellationToken.None);
        if (result.Schema is null || result.Diagnostics.Count > 0)
        {
            List<string> lines = result.Diagnostics.Select(Format).ToList();
            if (lines.Count == 0)
            {
                lines.Add($"{normalized}: error: not an SBE schema (the root element must be messageSchema)");
            }

            throw new SbeSchemaException(normalized, lines);
        }

        return new SbeSchema(result.Schema);
    }

    internal bool TryGetMessage(int templateId, out MessageModel message) => _messages.TryGetValue(templateId, out message!);

    internal T Type<T>(string? name)
        where T : NamedTypeModel
        => name is not null && _types.TryGetValue(name, out NamedTypeModel? type) && type is T typed
            ? typed
            : throw new InvalidOperationException($"Type '{name}' is not a {typeof(T).Name} of the schema");

    private static string Format(DiagnosticInfo diagnostic)
        => string.Create(
            CultureInfo.InvariantCulture,
            $"{diagnostic.Path}:{diagnostic.Line + 1}:{diagnostic.StartColumn + 1}: {(diagnostic.Severity == SchemaDiagnosticSeverity.Error ? "error" : "warning")} {diagnostic.Id}: {diagnostic.Message}");

    /// <summary>Reads every file that <paramref name="file"/> includes (recursively) so the parser can resolve it.</summary>
    private static void CollectIncludes(SchemaFile file, Dictionary<string, SchemaFile> files)
    {
        XDocument document;
        try
        {
            document = XDocument.Parse(file.Text);
        }
        catch (XmlException)
        {
            return; // the parser reports it
        }

        string directory = Paths.Directory(file.Path);
        foreach (XElement include in document.Descendants())
        {
            if (include.Name.LocalName != "include" || (include.Name.NamespaceName != XIncludeNamespace && include.Name.NamespaceName.Length != 0))
            {
                continue;
            }

            string? href = include.Attribute("href")?.Value.Trim();
            if (string.IsNullOrEmpty(href))
            {
                continue;
            }

            string path = Paths.Combine(directory, href);
            if (files.ContainsKey(path) || !File.Exists(path))
            {
                continue; // a missing file is reported by the parser (WSGW include not found)
            }

            var included = new SchemaFile(path, File.ReadAllText(path), null);
            files.Add(path, included);
            CollectIncludes(included, files);
        }
    }
}

/// <summary>A message of an <see cref="SbeSchema"/>.</summary>
/// <param name="Name">The message name.</param>
/// <param name="TemplateId">The template id in the message header.</param>
/// <param name="BlockLength">The root block length of the schema's version.</param>
/// <param name="SinceVersion">The schema version that added the message.</param>
public sealed record SbeMessageInfo(string Name, int TemplateId, int BlockLength, int SinceVersion);

/// <summary>An SBE schema that cannot be used: lists every problem with file:line.</summary>
public sealed class SbeSchemaException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The schema file.</param>
    /// <param name="diagnostics">One line per problem (<c>file:line:column: error WSGWnnn: message</c>).</param>
    public SbeSchemaException(string path, IReadOnlyList<string> diagnostics)
        : base($"SBE schema {path} has {diagnostics.Count} error(s):{Environment.NewLine}{string.Join(Environment.NewLine, diagnostics)}")
    {
        SchemaPath = path;
        Diagnostics = diagnostics;
    }

    /// <summary>The schema file.</summary>
    public string SchemaPath { get; }

    /// <summary>One line per problem (<c>file:line:column: error WSGWnnn: message</c>).</summary>
    public IReadOnlyList<string> Diagnostics { get; }
}
