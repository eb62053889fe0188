// Each test class starts real hub processes; one at a time keeps a small machine responsive.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
