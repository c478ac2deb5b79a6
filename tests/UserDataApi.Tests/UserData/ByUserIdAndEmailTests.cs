using System.Net.Http.Headers;
using System.Text.Json;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.UserData;

/// <summary>SPEC §3.4: by-user-id and by-email, their own result codes, their deletes, and what they file records under.</summary>
public sealed class ByUserIdAndEmailTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    private readonly FamilyCalls _calls = new(fixture.Client);
    private readonly TestAuthority _authority = fixture.Authority;

    public static TheoryData<string> Families => new("by-user-id", "by-email");

    private string Token(string user, string app = "app-1") => _authority.CreateToken(user, app);

    private string TokenWithEmail(string user, object? email, object? verified, string app = "app-1") =>
        _authority.CreateToken(user, app, tweak: descriptor =>
        {
            descriptor.Claims.Remove("email");
            descriptor.Claims.Remove("email_verified");
            if (email is not null)
            {
                descriptor.Claims["email"] = email;
            }
            if (verified is not null)
            {
                descriptor.Claims["email_verified"] = verified;
            }
        });

    [Fact]
    public void The_two_tables_shift_the_codes_after_invalid_parameters_and_have_no_identity_provider_code()
    {
        foreach (var table in new[] { typeof(ByUserIdResultCode), typeof(ByEmailResultCode) })
        {
            var codes = Enum.GetNames(table).ToDictionary(name => name, name => (int)Enum.Parse(table, name));
            Assert.Equal(-6, codes["KeyAccessDenied"]);
            Assert.Equal(-7, codes["KeyInvalid"]);
            Assert.Equal(-6, codes["KeysSizeLimitReached"]);
            Assert.DoesNotContain("IdentityProviderNotFound", codes.Keys);
            Assert.Equal(-7, codes.Values.Min());
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Set_answers_0_when_stored_minus_6_for_another_client_apps_key_and_minus_7_for_an_invalid_key(string family)
    {
        var user = UserDataFixture.NewUser();

        var stored = await _calls.SetAsync(family, Token(user), "k", "mine");
        var foreign = await _calls.SetAsync(family, Token(user, "app-2"), "k", "theirs");
        var empty = await _calls.SetAsync(family, Token(user), "");
        var tooLong = await _calls.SetAsync(family, Token(user), new string('k', 257));
        var control = await _calls.SetAsync(family, Token(user), "a\tb");

        Assert.Equal(0, stored.Result());
        Assert.Equal(-6, foreign.Result());
        Assert.Equal([-7, -7, -7], new[] { empty.Result(), tooLong.Result(), control.Result() });
        Assert.Equal("mine", FamilyCalls.Values(await _calls.GetAsync(family, Token(user), "k"))["k"]);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Get_answers_1_when_nothing_is_visible_0_with_values_and_minus_6_past_the_key_limit(string family)
    {
        var user = UserDataFixture.NewUser();
        await _calls.SetAsync(family, Token(user), "k", "v1");

        var none = await _calls.GetAsync(family, Token(user), "absent");
        var found = await _calls.GetAsync(family, Token(user), "k", "absent", "k");
        var tooMany = await _calls.GetAsync(family, Token(user), Enumerable.Range(0, 101).Select(i => $"k{i}").ToArray());

        Assert.Equal(1, none.Result());
        Assert.Equal(0, found.Result());
        Assert.Equal(new Dictionary<string, string> { ["k"] = "v1" }, FamilyCalls.Values(found));
        Assert.Single(found.GetProperty("values").EnumerateArray());
        Assert.Equal(-6, tooMany.Result());
        Assert.Empty(tooMany.GetProperty("values").EnumerateArray());
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Private_records_stay_with_their_client_app_public_ones_reach_the_users_other_apps_and_no_other_user(string family)
    {
        var user = UserDataFixture.NewUser();
        var other = UserDataFixture.NewUser();
        await _calls.SetAsync(family, Token(user), "private", "p", scope: 0);
        await _calls.SetAsync(family, Token(user), "public", "q", scope: 1);

        var sameApp = FamilyCalls.Values(await _calls.GetAsync(family, Token(user), "private", "public"));
        var otherApp = FamilyCalls.Values(await _calls.GetAsync(family, Token(user, "app-2"), "private", "public"));
        var otherUser = await _calls.GetAsync(family, Token(other), "private", "public");
        var shared = await _calls.SharedListGetAsync(family, Token(user, "app-2"));
        var otherList = await _calls.ListGetAsync(family, Token(user, "app-2"));

        Assert.Equal(["private", "public"], sameApp.Keys.Order());
        Assert.Equal(["public"], otherApp.Keys);
        Assert.Equal(1, otherUser.Result());
        Assert.Equal(["public"], shared.Strings("keys_shared"));
        Assert.Equal(1, otherList.Result());
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task List_get_takes_no_body_an_empty_object_or_only_a_request_id(string family)
    {
        var user = UserDataFixture.NewUser();
        await _calls.SetAsync(family, Token(user), "b", scope: 0);
        await _calls.SetAsync(family, Token(user), "a", scope: 1);
        using var noBody = new HttpRequestMessage(HttpMethod.Post, $"/user-data/{family}/list-get");
        noBody.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token(user));

        var answers = new[]
        {
            await fixture.Client.SendAsync(noBody),
            await fixture.Client.PostRawAsync($"{family}/list-get", "", Token(user)),
            await fixture.Client.PostRawAsync($"{family}/list-get", "{}", Token(user)),
            await fixture.Client.PostRawAsync($"{family}/list-get", """{"request_id":77}""", Token(user)),
        };

        Assert.All(answers, answer =>
        {
            Assert.Equal(0, answer.Result());
            Assert.Equal(["b"], answer.Strings("keys_private"));
            Assert.Equal(["a"], answer.Strings("keys_public"));
        });
        Assert.Equal(77, answers[3].GetProperty("request_id").GetInt64());
        Assert.False(answers[0].TryGetProperty("request_id", out _));
        Assert.Equal(1, (await fixture.Client.PostRawAsync($"{family}/list-get", "", Token(UserDataFixture.NewUser()))).Result());
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Shared_list_get_answers_1_first_then_pages_with_0_and_minus_5_for_a_forged_cursor(string family)
    {
        var user = UserDataFixture.NewUser();
        Assert.Equal(1, (await _calls.SharedListGetAsync(family, Token(user))).Result());
        foreach (var key in new[] { "a", "b", "c", "d" })
        {
            await _calls.SetAsync(family, Token(user, "app-2"), key);
        }

        var first = await _calls.SharedListGetAsync(family, Token(user), pageSize: 2);
        var second = await _calls.SharedListGetAsync(family, Token(user), first.GetProperty("next_search_id").GetString(), 2);
        var afterFullLastPage = await _calls.SharedListGetAsync(family, Token(user), second.GetProperty("next_search_id").GetString(), 2);
        var forged = await _calls.SharedListGetAsync(family, Token(user), "AQ" + new string('A', 30), 2);
        var borrowed = await _calls.SharedListGetAsync(family, Token(UserDataFixture.NewUser()), first.GetProperty("next_search_id").GetString(), 2);

        Assert.Equal([0, 0], new[] { first.Result(), second.Result() });
        Assert.Equal(["a", "b"], first.Strings("keys_shared"));
        Assert.Equal(["c", "d"], second.Strings("keys_shared"));
        Assert.NotEqual("", second.GetProperty("next_search_id").GetString());
        Assert.Equal(0, afterFullLastPage.Result());
        Assert.Empty(afterFullLastPage.Strings("keys_shared"));
        Assert.Equal("", afterFullLastPage.GetProperty("next_search_id").GetString());
        Assert.Equal(-5, forged.Result());
        Assert.Equal(-5, borrowed.Result());
    }

    [Fact]
    public async Task By_user_id_delete_answers_per_distinct_key_and_removes_only_the_callers_own()
    {
        var user = UserDataFixture.NewUser();
        await _calls.SetAsync("by-user-id", Token(user), "mine");
        await _calls.SetAsync("by-user-id", Token(user, "app-2"), "theirs");

        var answer = await _calls.DeleteAsync("by-user-id", Token(user), "mine", "theirs", "absent", "mine");
        var again = await _calls.DeleteAsync("by-user-id", Token(user), "mine");

        Assert.Equal(0, answer.Result());
        var results = answer.GetProperty("keys_delete_results").EnumerateArray()
            .Select(r => (r.GetProperty("value_key").GetString(), r.GetProperty("is_deleted").GetBoolean())).ToArray();
        Assert.Equal([("mine", true), ("theirs", false), ("absent", false)], results);
        Assert.Equal(1, again.Result());
        Assert.Equal([("mine", false)], again.GetProperty("keys_delete_results").EnumerateArray()
            .Select(r => (r.GetProperty("value_key").GetString(), r.GetProperty("is_deleted").GetBoolean())));
        Assert.Equal(["theirs"], FamilyCalls.Values(await _calls.GetAsync("by-user-id", Token(user), "mine", "theirs")).Keys);
    }

    [Fact]
    public async Task By_email_delete_answers_0_or_1_and_leaves_another_client_apps_key_alone()
    {
        var user = UserDataFixture.NewUser();
        await _calls.SetAsync("by-email", Token(user), "mine");
        await _calls.SetAsync("by-email", Token(user, "app-2"), "theirs");

        var removed = await _calls.DeleteAsync("by-email", Token(user), "mine", "theirs");
        var none = await _calls.DeleteAsync("by-email", Token(user), "theirs", "absent");

        Assert.Equal(0, removed.Result());
        Assert.Equal(1, none.Result());
        Assert.False(removed.TryGetProperty("keys_delete_results", out _));
        Assert.Equal(["theirs"], FamilyCalls.Values(await _calls.GetAsync("by-email", Token(user), "mine", "theirs")).Keys);
    }

    [Fact]
    public async Task By_email_files_under_the_trimmed_lower_cased_address_so_two_accounts_with_one_verified_email_share_records()
    {
        var email = $"  Alice.{Guid.NewGuid():N}@Example.COM ";
        var first = TokenWithEmail(UserDataFixture.NewUser(), email, true);
        var second = TokenWithEmail(UserDataFixture.NewUser(), email.Trim().ToLowerInvariant(), "true");
        var stranger = TokenWithEmail(UserDataFixture.NewUser(), $"bob.{Guid.NewGuid():N}@example.com", true);

        await _calls.SetAsync("by-email", first, "k", "shared by one person");

        Assert.Equal("shared by one person", FamilyCalls.Values(await _calls.GetAsync("by-email", second, "k"))["k"]);
        Assert.Equal(1, (await _calls.GetAsync("by-email", stranger, "k")).Result());
        Assert.Equal(1L, await TestSql.ScalarAsync<long>(fixture.ConnectionString,
            "SELECT count(*) FROM user_data_records WHERE family = 2 AND user_id = $1", email.Trim().ToLowerInvariant()));
    }

    public static TheoryData<string, object?, object?> UnvouchedEmails => new()
    {
        { "missing", null, true },
        { "unverified", "victim@example.com", false },
        { "unverified as a string", "victim@example.com", "false" },
        { "verified neither true nor false", "victim@example.com", "yes" },
        { "blank", "   ", true },
        { "two addresses", new[] { "victim@example.com", "me@example.com" }, true },
    };

    [Theory]
    [MemberData(nameof(UnvouchedEmails))]
    public async Task By_email_answers_minus_3_on_every_call_to_a_token_that_does_not_vouch_for_its_email_and_reads_nothing(
        string what, object? email, object? verified)
    {
        var victim = TokenWithEmail(UserDataFixture.NewUser(), "victim@example.com", true);
        await _calls.SetAsync("by-email", victim, "secret", "the victim's", scope: 1);
        var token = TokenWithEmail(UserDataFixture.NewUser(), email, verified);

        foreach (var (endpoint, (body, _)) in EndpointCases.Endpoints.Where(e => e.Key.StartsWith("by-email/")))
        {
            var answer = await fixture.Client.PostAsync(endpoint, body, token);
            Assert.True(answer.Result() == -3, $"{what}: {endpoint} answered {answer}");
        }
        var read = await _calls.GetAsync("by-email", token, "secret");
        Assert.Equal(-3, read.Result());
        Assert.Empty(read.GetProperty("values").EnumerateArray());
        Assert.Equal("the victim's", FamilyCalls.Values(await _calls.GetAsync("by-email", victim, "secret"))["secret"]);
    }

    [Fact]
    public async Task By_email_takes_an_email_without_email_verified_as_the_token_gives_it()
    {
        var token = TokenWithEmail(UserDataFixture.NewUser(), $"carol.{Guid.NewGuid():N}@example.com", verified: null);

        Assert.Equal(0, (await _calls.SetAsync("by-email", token, "k")).Result());
        Assert.Equal(0, (await _calls.GetAsync("by-email", token, "k")).Result());
    }

    [Fact]
    public async Task The_three_families_are_separate_namespaces_in_both_directions_even_when_sub_and_email_are_one_string()
    {
        var same = $"same.{Guid.NewGuid():N}@example.com";
        var token = TokenWithEmail(same, same, true);
        string[] families = ["by-idp", "by-user-id", "by-email"];
        foreach (var family in families)
        {
            Assert.Equal(0, (await _calls.SetAsync(family, token, "k", $"value {family}")).Result());
        }

        foreach (var family in families)
        {
            Assert.Equal($"value {family}", FamilyCalls.Values(await _calls.GetAsync(family, token, "k"))["k"]);
            Assert.Equal(["k"], (await _calls.ListGetAsync(family, token)).Strings("keys_public"));
        }
        // Another client app's key in one family does not block, or get removed by, the same key in another.
        Assert.Equal(0, (await _calls.SetAsync("by-user-id", _authority.CreateToken(same, "app-2"), "only-app-2", "x")).Result());
        Assert.Equal(0, (await _calls.SetAsync("by-email", token, "only-app-2", "y")).Result());
        Assert.Equal(0, (await _calls.DeleteAsync("by-email", token, "k")).Result());
        Assert.Equal("value by-user-id", FamilyCalls.Values(await _calls.GetAsync("by-user-id", token, "k"))["k"]);
        Assert.Equal("value by-idp", FamilyCalls.Values(await _calls.GetAsync("by-idp", token, "k"))["k"]);
        Assert.Equal(1, (await _calls.GetAsync("by-email", token, "k")).Result());

        // A cursor is bound to its family too: by-user-id's does not page by-email's keys of the same user and app.
        var otherApp = _authority.CreateToken(same, "app-2");
        foreach (var family in new[] { "by-user-id", "by-email" })
        {
            await _calls.SetAsync(family, otherApp, "shared-1");
            await _calls.SetAsync(family, otherApp, "shared-2");
        }
        var cursor = (await _calls.SharedListGetAsync("by-user-id", token, pageSize: 1)).GetProperty("next_search_id").GetString();
        Assert.Equal(0, (await _calls.SharedListGetAsync("by-user-id", token, cursor, 1)).Result());
        Assert.Equal(-5, (await _calls.SharedListGetAsync("by-email", token, cursor, 1)).Result());
    }

    [Theory]
    [InlineData("INSERT INTO user_data_records (user_id, family, identity_provider, value_key, value_data, access_scope, client_app_id, created_at, updated_at) VALUES ('u', 1, 'telegram', 'k', 'v', 1, 'a', now(), now())")]
    [InlineData("INSERT INTO user_data_records (user_id, family, identity_provider, value_key, value_data, access_scope, client_app_id, created_at, updated_at) VALUES ('u', 0, '', 'k', 'v', 1, 'a', now(), now())")]
    [InlineData("INSERT INTO user_data_records (user_id, family, identity_provider, value_key, value_data, access_scope, client_app_id, created_at, updated_at) VALUES ('u', 3, '', 'k', 'v', 1, 'a', now(), now())")]
    public async Task The_schema_refuses_a_record_outside_the_three_families(string insert)
    {
        var refused = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => TestSql.ExecuteAsync(fixture.ConnectionString, insert));

        Assert.Equal("ck_user_data_records_family", refused.ConstraintName);
    }
}
