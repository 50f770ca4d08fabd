using BenchmarkDotNet.Running;
using WsGateway.Benchmarks;

// `--sizes` prints the encoded size of the benchmark trade in SBE and JSON; anything else goes to BenchmarkDotNet.
if (args is ["--sizes"])
{
    PayloadSizes.Print();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
