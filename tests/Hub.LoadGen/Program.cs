using Hub.LoadGen;

LoadOptions options;
try
{
    if (args is ["--summarize", var folder])
    {
        Console.Write(Summary.Write(folder));
        return 0;
    }

    if (args is ["--summarize-nodes", var nodesFolder])
    {
        Console.Write(NodesSummary.Write(nodesFolder));
        return 0;
    }

    if (args is ["--help" or "-h"])
    {
        Console.WriteLine(LoadOptions.Usage);
        return 0;
    }

    options = LoadOptions.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException or UriFormatException)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(LoadOptions.Usage);
    return 2;
}

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; interrupted.Cancel(); };
var report = await LoadRunner.RunAsync(options, interrupted.Token);
if (!options.JsonOnly)
{
    Console.Error.Write(report.ToTable());
}

Console.WriteLine(report.ToJson());
return 0;
