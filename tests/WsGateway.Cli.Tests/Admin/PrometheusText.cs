using System.Globalization;

namespace WsGateway.Cli.Tests.Admin;

/// <summary>Reads samples out of a Prometheus text exposition (what /metrics returns).</summary>
internal sealed class PrometheusText(string text)
{
    public string Text { get; } = text;

    /// <summary>The value of the one sample named <paramref name="name"/> whose labels include every pair in
    /// <paramref name="labels"/> (<c>websocket_close_code="1003"</c>).</summary>
    public double Value(string name, params string[] labels)
    {
        List<double> found = [];
        foreach (string line in Text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            int labelsStart = line.IndexOf('{', StringComparison.Ordinal);
            int nameEnd = labelsStart >= 0 ? labelsStart : line.IndexOf(' ', StringComparison.Ordinal);
            if (nameEnd < 0 || line[..nameEnd] != name)
            {
                continue;
            }

            int labelsEnd = labelsStart >= 0 ? line.IndexOf('}', labelsStart) : nameEnd;
            string labelText = labelsStart >= 0 ? line[(labelsStart + 1)..labelsEnd] : string.Empty;
            if (labels.All(pair => labelText.Split(',').Contains(pair)))
            {
                string value = line[(labelsEnd + 1)..].Trim().Split(' ')[0];
                found.Add(double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture));
            }
        }

        Assert.True(found.Count == 1, $"expected one sample {name}{{{string.Join(',', labels)}}}, found {found.Count} in:\n{Text}");
        return found[0];
    }
}
