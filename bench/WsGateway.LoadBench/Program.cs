using WsGateway.LoadBench;

// dotnet run -c Release --project bench/WsGateway.LoadBench -- [--quick] [--only single] [--servers gateway,baseline] [--server-cpus 0 --client-cpus 1] [--json results.json]
return await BenchCommand.Create().Parse(args).InvokeAsync().ConfigureAwait(false);
