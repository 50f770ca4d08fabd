namespace WsGateway.Sbe.Generator.Tests;

public sealed class Smoke
{
    [Fact]
    public void Car_types_exist() => Assert.Equal(45, Baseline.CarDecoder.SbeBlockLength);
}
