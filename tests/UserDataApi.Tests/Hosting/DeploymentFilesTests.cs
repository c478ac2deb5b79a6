using System.Text.Json;
using System.Text.RegularExpressions;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Hosting;

/// <summary>
/// What can be checked of docker compose's Keycloak without a Docker engine: the realm import gives
/// tokens the claims and scopes the server needs, and the server is pointed at that realm's issuer.
/// </summary>
public sealed class DeploymentFilesTests
{
    private static readonly string[] ApiScopes = ["email", "user-data-get", "user-data-set", "idp-intents"];

    private static JsonElement Realm =>
        JsonDocument.Parse(File.ReadAllText(Repository.PathOf("deploy/keycloak/userdataapi-realm.json"))).RootElement;

    private static string ComposeSetting(string name)
    {
        var match = ComposeSettingLine(name).Match(File.ReadAllText(Repository.PathOf("docker-compose.yml")));
        Assert.True(match.Success, $"docker-compose.yml sets no {name}");
        return match.Groups["value"].Value;
    }

    private static Regex ComposeSettingLine(string name) => new($@"^\s*{Regex.Escape(name)}:\s*""?(?<value>[^""\s]+)""?\s*$", RegexOptions.Multiline);

    [Fact]
    public void Every_realm_client_gets_the_api_scopes_in_its_tokens()
    {
        var scopes = Realm.GetProperty("clientScopes").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        var clients = Realm.GetProperty("clients").EnumerateArray().ToList();

        Assert.All(ApiScopes, scope =>
            Assert.Equal("true", scopes[scope].GetProperty("attributes").GetProperty("include.in.token.scope").GetString()));
        Assert.NotEmpty(clients);
        Assert.All(clients, client =>
        {
            var defaults = client.GetProperty("defaultClientScopes").EnumerateArray().Select(s => s.GetString()).ToList();
            Assert.All(ApiScopes.Append("basic"), scope => Assert.Contains(scope, defaults));
        });
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
        var issuer = $"{ComposeSetting("KC_HOSTNAME").TrimEnd('/')}/realms/{Realm.GetProperty("realm").GetString()}";

        Assert.Equal(issuer, ComposeSetting("Auth__Authority"));
        Assert.Equal("false", ComposeSetting("Auth__RequireHttpsMetadata"));
        Assert.Equal("identity-providers.json", ComposeSetting("IdentityProviders__File"));
    }
}
