namespace WsGateway.Sbe.Generator.Tests.Infrastructure;

/// <summary>The values of a Car message, independent of which generated namespace decodes it (enums as raw bytes).</summary>
internal sealed record CarValues(
    ulong SerialNumber,
    ushort ModelYear,
    byte Available,
    byte Code,
    uint[] SomeNumbers,
    string VehicleCode,
    byte Extras,
    ushort Capacity,
    byte NumCylinders,
    string ManufacturerCode,
    sbyte Efficiency,
    byte BoosterEnabled,
    byte BoostType,
    byte HorsePower,
    FuelFigure[] FuelFigures,
    PerformanceFigure[] PerformanceFigures,
    string Manufacturer,
    string Model,
    string ActivationCode)
{
    /// <summary>The values of tests/data/sbe/README.md for the Car baseline, with <paramref name="someNumbers"/>.</summary>
    public static CarValues Baseline(params uint[] someNumbers) => new(
        1234, 2013, 1, (byte)'A', someNumbers, "abcdef", 0x06, 2000, 4, "123", 35, 1, (byte)'N', 200,
        [new(30, 35.9f, "Urban Cycle"), new(55, 49.0f, "Combined Cycle"), new(75, 40.0f, "Highway Cycle")],
        [new(95, [new(30, 4.0f), new(60, 7.5f), new(100, 12.2f)]), new(99, [new(30, 3.8f), new(60, 7.1f), new(100, 11.8f)])],
        "Honda", "Civic VTi", "abcdef");
}

internal sealed record FuelFigure(ushort Speed, float Mpg, string UsageDescription);

internal sealed record PerformanceFigure(byte OctaneRating, Acceleration[] Acceleration);

internal sealed record Acceleration(ushort Mph, float Seconds);
