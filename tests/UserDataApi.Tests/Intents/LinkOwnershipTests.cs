using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using UserDataApi.Intents;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Intents;

/// <summary>
/// SPEC §4.1: the links of a user are managed by that user (its token's <c>sub</c>) or by a token with
/// <c>Intents:AdminScope</c>, never by any other holder of the intents scope.
/// </summary>
public sealed class LinkOwnershipTests(IntentFixture fixture) : IClassFixture<IntentFixture>
{
    private static string NewUser(string name) => $"{name}-{Guid.NewGuid():N}";

    private static object Link(string idpId, string linkedUserId) => new { idpLink = new { idpId, userId = linkedUserId, userName = "someone" } };

    private async Task<string[]> LinkedAccountsAsync(string userId)
    {
        using var response = await fixture.LoginUiClientFor(fixture.First).PostAsJsonAsync($"/v2/users/{userId}/links/_search", new { });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return ProtoJsonReading.Repeated(answer, "result").Select(l => $"{l.GetProperty("idpId").GetString()}/{l.GetProperty("userId").GetString()}").ToArray();
    }

    private static async Task AssertPermissionDeniedAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{(int)response.StatusCode}: {body}");
        Assert.Equal(StatusCode.PermissionDenied, (StatusCode)JsonDocument.Parse(body).RootElement.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task A_caller_without_the_admin_scope_can_neither_add_list_nor_remove_another_user_s_links()
    {
        var alice = NewUser("alice");
        var bob = NewUser("bob");
        using var admin = fixture.LoginUiClientFor(fixture.First);
        using var seeded = await admin.PostAsJsonAsync($"/v2/users/{bob}/links", Link(IntentFixture.OAuthProvider, "bob-at-provider"));
        Assert.Equal(HttpStatusCode.OK, seeded.StatusCode);
        using var asAlice = fixture.ClientFor(fixture.First, userId: alice, clientApp: "demo-app");

        await AssertPermissionDeniedAsync(await asAlice.PostAsJsonAsync($"/v2/users/{bob}/links", Link(IntentFixture.OidcProvider, "alice-at-provider")));
        await AssertPermissionDeniedAsync(await asAlice.PostAsJsonAsync($"/v2/users/{bob}/links/_search", new { }));
        await AssertPermissionDeniedAsync(await asAlice.DeleteAsync($"/v2/users/{bob}/links/{IntentFixture.OAuthProvider}/bob-at-provider"));
        // Not even a body that would be refused anyway tells alice more than that.
        await AssertPermissionDeniedAsync(await asAlice.PostAsJsonAsync($"/v2/users/{bob}/links", new { }));

        Assert.Equal([$"{IntentFixture.OAuthProvider}/bob-at-provider"], await LinkedAccountsAsync(bob));
    }

    [Fact]
    public async Task Linking_one_s_own_provider_account_to_another_user_is_refused_so_signing_in_never_yields_their_user_id()
    {
        var alice = NewUser("alice");
        var bob = NewUser("bob");
        var aliceAtProvider = TestIdentityProvider.Alice.Subject;
        using var asAlice = fixture.ClientFor(fixture.First, userId: alice, clientApp: "demo-app");

        await AssertPermissionDeniedAsync(await asAlice.PostAsJsonAsync($"/v2/users/{bob}/links", Link(IntentFixture.OidcProvider, aliceAtProvider)));

        var (_, authUrl) = await fixture.StartIntentAsync(fixture.First);
        var callback = await fixture.SignInAtProviderAsync(authUrl, TestIdentityProvider.Alice);
        var landing = QueryHelpers.ParseQuery((await fixture.DeliverCallbackAsync(fixture.First, callback)).Query);
        Assert.False(landing.ContainsKey("user"), "the success URL named a user");
        using var retrieved = await fixture.RetrieveAsync(fixture.First, landing["id"]!, landing["token"]);
        var answer = JsonDocument.Parse(await retrieved.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.OK, retrieved.StatusCode);
        Assert.False(answer.TryGetProperty("userId", out _), "retrieve named a user");
        Assert.True(answer.TryGetProperty("addHumanUser", out _));
    }

    [Fact]
    public async Task A_user_manages_its_own_links_and_the_admin_scope_manages_anyone_s()
    {
        var alice = NewUser("alice");
        var bob = NewUser("bob");
        using var asAlice = fixture.ClientFor(fixture.First, userId: alice, clientApp: "demo-app");
        using var admin = fixture.LoginUiClientFor(fixture.First);

        using var own = await asAlice.PostAsJsonAsync($"/v2/users/{alice}/links", Link(IntentFixture.OAuthProvider, $"{alice}-ext"));
        using var forBob = await admin.PostAsJsonAsync($"/v2/users/{bob}/links", Link(IntentFixture.OAuthProvider, $"{bob}-ext"));
        using var listed = await asAlice.PostAsJsonAsync($"/v2/users/{alice}/links/_search", new { });

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(HttpStatusCode.OK, forBob.StatusCode);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Equal([$"{IntentFixture.OAuthProvider}/{bob}-ext"], await LinkedAccountsAsync(bob));
        using var removedOwn = await asAlice.DeleteAsync($"/v2/users/{alice}/links/{IntentFixture.OAuthProvider}/{alice}-ext");
        using var removedBob = await admin.DeleteAsync($"/v2/users/{bob}/links/{IntentFixture.OAuthProvider}/{bob}-ext");
        Assert.Equal(HttpStatusCode.OK, removedOwn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, removedBob.StatusCode);
        Assert.Empty(await LinkedAccountsAsync(alice));
        Assert.Empty(await LinkedAccountsAsync(bob));
    }
}
