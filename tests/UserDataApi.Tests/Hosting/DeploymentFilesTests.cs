using System.Text.Json;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Hosting;

/// <summary>
/// What can be checked of the Dockerfile and docker compose without a Docker engine (SPEC §6): the compose file
/// parses and wires PostgreSQL, the server and Keycloak together; the realm import gives tokens the claims and
/// scopes the server needs; and the Dockerfile's build stage, carried out here, publishes what its runtime stage starts.
/// </summary>
public sealed class DeploymentFilesTests
{
    private static readonly string[] UserDataScopes = ["email", "user-data-get", "user-data-set"];
    private static readonly string[] IntentScopes = ["idp-intents", "idp-links-admin"];

    private static JsonElement Realm =>
        JsonDocument.Parse(File.ReadAllText(Repository.PathOf("deploy/keycloak/userdataapi-realm.json"))).RootElement;

    private static ComposeFile Compose => ComposeFile.Load(Repository.PathOf("docker-compose.yml"));

    private static Dockerfile Image => Dockerfile.Load(Repository.PathOf("Dockerfile"));

    private static List<string?> DefaultScopesOf(JsonElement client) =>
        client.GetProperty("defaultClientScopes").EnumerateArray().Select(s => s.GetString()).ToList();

    [Fact]
    public void Realm_client_apps_get_the_user_data_scopes_and_only_the_confidential_login_ui_gets_the_intent_scopes()
    {
        var scopes = Realm.GetProperty("clientScopes").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        var clients = Realm.GetProperty("clients").EnumerateArray().ToDictionary(c => c.GetProperty("clientId").GetString()!);

        Assert.All(UserDataScopes.Concat(IntentScopes), scope =>
            Assert.Equal("true", scopes[scope].GetProperty("attributes").GetProperty("include.in.token.scope").GetString()));
        Assert.All(clients.Values, client => Assert.Contains("basic", DefaultScopesOf(client)));
        Assert.All(["demo-app", "backend-app"], app => Assert.All(UserDataScopes, scope => Assert.Contains(scope, DefaultScopesOf(clients[app]))));
        // A public client's tokens can be had by anyone who runs it: never intents, never anyone's links.
        var publicClients = clients.Values.Where(c => c.GetProperty("publicClient").GetBoolean()).ToList();
        Assert.NotEmpty(publicClients);
        Assert.All(publicClients, client => Assert.All(IntentScopes, scope => Assert.DoesNotContain(scope, DefaultScopesOf(client))));
        Assert.All(IntentScopes, scope => Assert.DoesNotContain(scope, Realm.GetProperty("defaultDefaultClientScopes").EnumerateArray().Select(s => s.GetString())));
        var loginUi = clients["login-ui"];
        Assert.False(loginUi.GetProperty("publicClient").GetBoolean());
        Assert.True(loginUi.GetProperty("serviceAccountsEnabled").GetBoolean());
        Assert.All(IntentScopes, scope => Assert.Contains(scope, DefaultScopesOf(loginUi)));
    }

    [Fact]
    public void Realm_tokens_carry_sub_because_a_custom_realm_has_no_default_basic_scope()
    {
        var basic = Realm.GetProperty("clientScopes").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "basic");

        var sub = basic.GetProperty("protocolMappers").EnumerateArray().Single(m => m.GetProperty("protocolMapper").GetString() == "oidc-sub-mapper");
        Assert.Equal("true", sub.GetProperty("config").GetProperty("access.token.claim").GetString());
    }

    [Fact]
    public void The_compose_server_accepts_the_issuer_keycloak_writes_into_its_tokens()
    {
        var keycloak = Compose.Service("keycloak").Environment;
        var api = Compose.Service("api").Environment;

        Assert.Equal($"{keycloak["KC_HOSTNAME"].TrimEnd('/')}/realms/{Realm.GetProperty("realm").GetString()}", api["Auth__Authority"]);
        Assert.Equal("false", api["Auth__RequireHttpsMetadata"]);
        Assert.Equal("identity-providers.json", api["IdentityProviders__File"]);
    }

    [Fact]
    public void Compose_db_is_postgres_keeping_its_data_in_a_named_volume_with_a_healthcheck()
    {
        var compose = Compose;
        var db = compose.Service("db");

        Assert.StartsWith("postgres:", db.Image);
        // The PostgreSQL images (before 18) keep their cluster in /var/lib/postgresql/data.
        var data = Assert.Single(db.Volumes, volume => volume.Target == "/var/lib/postgresql/data");
        Assert.Contains(data.Source, compose.VolumeNames);
        Assert.Contains(db.HealthcheckTest.FirstOrDefault(), new[] { "CMD", "CMD-SHELL" });
        Assert.Contains("pg_isready", string.Join(' ', db.HealthcheckTest));
    }

    [Fact]
    public void Compose_api_is_built_from_this_repository_and_starts_migrating_once_db_is_healthy()
    {
        var compose = Compose;
        var api = compose.Service("api");

        Assert.NotNull(api.BuildContext);
        Assert.Equal(Repository.Root, Path.GetFullPath(api.BuildContext, compose.Directory));
        Assert.Equal("service_healthy", api.DependsOn.GetValueOrDefault("db"));
        Assert.All(api.DependsOn.Where(d => d.Value == "service_healthy"), d => Assert.NotEmpty(compose.Service(d.Key).HealthcheckTest));
        Assert.Equal("true", api.Environment.GetValueOrDefault("Database__MigrateOnStartup"));
        Assert.Contains("8080", api.ContainerPorts);
    }

    [Fact]
    public void Compose_api_listens_for_cleartext_grpc_on_a_port_it_publishes()
    {
        var api = Compose.Service("api");

        var grpc = new Uri(api.Environment["Grpc__Url"]);
        Assert.Equal("http", grpc.Scheme);
        Assert.NotEqual(8080, grpc.Port);
        Assert.Contains(grpc.Port.ToString(), api.ContainerPorts);
    }

    [Fact]
    public void Compose_keycloak_imports_this_repository_s_realm_at_start()
    {
        var compose = Compose;
        var keycloak = compose.Service("keycloak");

        Assert.StartsWith("quay.io/keycloak/keycloak:", keycloak.Image);
        Assert.Contains("--import-realm", keycloak.Command);
        // --import-realm reads every *.json in /opt/keycloak/data/import: each must be a well-formed realm.
        var import = Assert.Single(keycloak.Volumes, volume => volume.Target == "/opt/keycloak/data/import");
        var folder = Path.GetFullPath(import.Source, compose.Directory);
        Assert.Equal(Repository.PathOf("deploy/keycloak"), folder);
        var realms = Directory.GetFiles(folder, "*.json");
        Assert.Contains(Repository.PathOf("deploy/keycloak/userdataapi-realm.json"), realms);
        Assert.All(realms, file => Assert.False(string.IsNullOrEmpty(JsonDocument.Parse(File.ReadAllText(file)).RootElement.GetProperty("realm").GetString())));
    }

    [Fact]
    public void The_image_is_built_on_the_sdk_and_runs_on_the_aspnet_runtime_as_a_non_root_user()
    {
        var image = Image;
        var runtime = image.Final;
        var build = image.Stage(Assert.Single(runtime.All("COPY"), copy => copy.Option("from") is not null).Option("from")!);

        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0", build.Image);
        Assert.Equal("build", build.Name);
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0", runtime.Image);
        // $APP_UID is the unprivileged user the .NET images define; its number is the image's, not readable here.
        var user = runtime.Last("USER").Arguments.Split(':')[0];
        Assert.DoesNotContain(user, new[] { "", "root", "0" });
    }

    [Fact]
    public void The_container_listens_publishes_and_checks_liveness_on_port_8080()
    {
        var runtime = Image.Final;
        var probe = new Uri(runtime.Last("HEALTHCHECK").HealthcheckCommand.First(word => word.StartsWith("http://", StringComparison.Ordinal)));

        Assert.Equal("8080", runtime.Variable("ASPNETCORE_HTTP_PORTS"));
        Assert.Contains("8080", runtime.All("EXPOSE").SelectMany(expose => expose.Words).Select(port => port.Split('/')[0]));
        Assert.True(probe.IsLoopback, $"HEALTHCHECK probes {probe}, not the container itself");
        Assert.Equal(8080, probe.Port);
        Assert.Equal("/health/live", probe.AbsolutePath);
        Assert.Contains("8080", Compose.Service("api").ContainerPorts);
    }

    [Fact]
    public async Task The_build_stage_carried_out_here_publishes_everything_the_runtime_stage_starts()
    {
        var image = Image;
        var runtime = image.Final;
        var copy = Assert.Single(runtime.All("COPY"), copy => copy.Option("from") is not null);
        var build = image.Stage(copy.Option("from")!);
        var entrypoint = runtime.Last("ENTRYPOINT");
        var contentRoot = runtime.WorkdirAt(entrypoint);
        var (published, installed) = (copy.Operands[0], Path.GetFullPath(copy.Operands[1], runtime.WorkdirAt(copy)));

        using var replica = await DockerStageReplica.RunAsync(build, Repository.Root, TimeSpan.FromMinutes(5));

        Assert.NotEmpty(replica.Runs);
        Assert.All(replica.Runs, run => Assert.True(run.ExitCode == 0, $"RUN {run.Command} exited with {run.ExitCode}:\n{run.Output}"));
        Assert.Equal("dotnet", entrypoint.Words[0]);
        var app = Path.GetFullPath(entrypoint.Words[1], contentRoot);
        Assert.Equal("UserDataApi.dll", Path.GetFileName(app));
        string InReplica(string runtimePath) => replica.PathOf(Path.Join(published, Path.GetRelativePath(installed, runtimePath)));
        string[] needed =
        [
            app,
            Path.ChangeExtension(app, ".runtimeconfig.json"),
            Path.GetFullPath("appsettings.json", contentRoot),
            Path.GetFullPath(Compose.Service("api").Environment["IdentityProviders__File"], contentRoot),
        ];
        Assert.All(needed, path => Assert.True(File.Exists(InReplica(path)), $"The image would lack {path}: the build stage does not publish it"));
        // The runtime image must carry the framework the app was built for.
        var options = JsonDocument.Parse(File.ReadAllText(InReplica(needed[1]))).RootElement.GetProperty("runtimeOptions");
        var version = runtime.Image.Split(':')[1].Split('-')[0];
        Assert.Equal($"net{version}", options.GetProperty("tfm").GetString());
        Assert.Contains(options.GetProperty("frameworks").EnumerateArray(), framework =>
            framework.GetProperty("name").GetString() == "Microsoft.AspNetCore.App" && framework.GetProperty("version").GetString()!.StartsWith(version + ".", StringComparison.Ordinal));
    }
}
