# Hub in a container: the same build the tests use (Release), published, on the ASP.NET Core runtime image.
#   docker build -t hub . && docker run --rm -p 5080:5080 -v hub-data:/app/data hub
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# The pages' browser packages (SignalR's client, uPlot) come from npm during the build (src/Hub.Server/ClientLibs).
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props Hub.sln appsettings.json ./
COPY src/Hub.Stages/Hub.Stages.csproj src/Hub.Stages/
COPY src/Hub.Log/Hub.Log.csproj src/Hub.Log/
COPY src/Hub.Log.Sqlite/Hub.Log.Sqlite.csproj src/Hub.Log.Sqlite/
COPY src/Hub.Log.Postgres/Hub.Log.Postgres.csproj src/Hub.Log.Postgres/
COPY src/Hub.AspNetCore/Hub.AspNetCore.csproj src/Hub.AspNetCore/
COPY src/Hub.Server/Hub.Server.csproj src/Hub.Server/
COPY src/Hub.Server/ClientLibs/package.json src/Hub.Server/ClientLibs/package-lock.json src/Hub.Server/ClientLibs/
RUN dotnet restore src/Hub.Server/Hub.Server.csproj && (cd src/Hub.Server/ClientLibs && npm ci --no-audit --no-fund)
COPY src/ src/
COPY wwwroot/ wwwroot/
# The publish command, exactly: tests/Hub.Server.Tests/DockerfilePublishTests.cs reads it from this line and runs it.
RUN dotnet publish src/Hub.Server/Hub.Server.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# The event log (SQLite, data/hub.db under the content root) lives on a volume the app's user can write, with its
# reserve for a full disk beside it (data/hub.db-reserve, Hub:Log:Sqlite:ReserveBytes, 16 MiB: size the volume for it).
RUN mkdir -p /app/data && chown "$APP_UID" /app/data
VOLUME /app/data
# Listen on every interface inside the container; the hub's own default is http://localhost:5080.
ENV ASPNETCORE_URLS=http://+:5080
EXPOSE 5080
USER $APP_UID
# Ready = the log answers and the dispatch loop runs. The runtime image has no curl: the hub's own probe mode asks it.
HEALTHCHECK --interval=30s --timeout=10s --start-period=15s --retries=3 \
  CMD ["dotnet", "Hub.Server.dll", "--health-check", "http://127.0.0.1:5080/health/ready"]
ENTRYPOINT ["dotnet", "Hub.Server.dll"]
