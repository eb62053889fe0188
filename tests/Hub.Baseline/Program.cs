await Hub.Baseline.BaselineApp.Create(args).RunAsync();
