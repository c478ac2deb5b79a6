namespace UserDataApi.Tests.UserData;

/// <summary>
/// Each user-data endpoint of the three sub-families ("by-idp/set", "by-user-id/get", …) with a valid request
/// body for it and the fields its answers always carry.
/// </summary>
public static class EndpointCases
{
    public static readonly string[] Families = ["by-idp", "by-user-id", "by-email"];

    public static readonly IReadOnlyDictionary<string, (object Body, string[] AnswerFields)> Endpoints = new Dictionary<string, (object, string[])>
    {
        ["by-idp/set"] = (new { identity_provider = "telegram", value_key = "k", value_data = "v" }, []),
        ["by-idp/get"] = (new { identity_provider = "telegram", value_keys = new[] { "k" } }, ["values"]),
        ["by-idp/list-get"] = (new { identity_provider = "telegram" }, ["keys_private", "keys_public"]),
        ["by-idp/shared-list-get"] = (new { identity_provider = "telegram" }, ["keys_shared", "next_search_id"]),
        ["by-idp/delete"] = (new { identity_provider = "telegram", value_keys = new[] { "k" } }, []),
        ["by-user-id/set"] = (new { value_key = "k", value_data = "v" }, []),
        ["by-user-id/get"] = (new { value_keys = new[] { "k" } }, ["values"]),
        ["by-user-id/list-get"] = (new { }, ["keys_private", "keys_public"]),
        ["by-user-id/shared-list-get"] = (new { }, ["keys_shared", "next_search_id"]),
        ["by-user-id/delete"] = (new { value_keys = new[] { "k" } }, ["keys_delete_results"]),
        ["by-email/set"] = (new { value_key = "k", value_data = "v" }, []),
        ["by-email/get"] = (new { value_keys = new[] { "k" } }, ["values"]),
        ["by-email/list-get"] = (new { }, ["keys_private", "keys_public"]),
        ["by-email/shared-list-get"] = (new { }, ["keys_shared", "next_search_id"]),
        ["by-email/delete"] = (new { value_keys = new[] { "k" } }, []),
    };

    /// <summary>All fifteen endpoints.</summary>
    public static TheoryData<string> Names => new(Endpoints.Keys);

    /// <summary>The five by-idp endpoints, which name an identity provider of the catalog.</summary>
    public static TheoryData<string> ByIdpNames => new(Endpoints.Keys.Where(name => name.StartsWith("by-idp/", StringComparison.Ordinal)));

    /// <summary>The ten endpoints that name no identity provider.</summary>
    public static TheoryData<string> WithoutIdentityProviderNames => new(Endpoints.Keys.Where(name => !name.StartsWith("by-idp/", StringComparison.Ordinal)));

    public static TheoryData<string> FamilyNames => new(Families);

    /// <summary>A valid by-idp body naming <paramref name="identityProvider"/>.</summary>
    public static object BodyWith(string endpoint, string identityProvider) => endpoint switch
    {
        "by-idp/set" => new { identity_provider = identityProvider, value_key = "k", value_data = "v" },
        "by-idp/get" or "by-idp/delete" => new { identity_provider = identityProvider, value_keys = new[] { "k" } },
        _ => new { identity_provider = identityProvider },
    };
}
