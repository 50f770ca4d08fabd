using System.Text;

namespace WsGateway.Sbe.Generator;

/// <summary>Indented C# text, a line at a time: what both emitters write through.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _builder = new();

    /// <summary>The current indentation, in levels of four spaces.</summary>
    public int Indent { get; set; }

    public void Line(string text = "")
    {
        if (text.Length > 0)
        {
            _builder.Append(' ', Indent * 4).Append(text);
        }

        _builder.Append('\n');
    }

    public void Open()
    {
        Line("{");
        Indent++;
    }

    public void Close()
    {
        Indent--;
        Line("}");
    }

    public override string ToString() => _builder.ToString();
}
