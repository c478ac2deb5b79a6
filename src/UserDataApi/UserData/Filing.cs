using UserDataApi.Auth;
using UserDataApi.Persistence;

namespace UserDataApi.UserData;

/// <summary>
/// Where a call's records are filed: the sub-family, the user they belong to (the token's <c>sub</c>, or
/// by-email the verified address) and, by-idp only, the identity provider (empty otherwise).
/// </summary>
public readonly record struct Filing(UserDataFamily Family, string UserId, string IdentityProvider)
{
    /// <summary>The filing of <paramref name="request"/> by <paramref name="caller"/> (by-email: one with a verified email).</summary>
    public static Filing Of(UserDataFamily family, Caller caller, UserDataRequest request) => family switch
    {
        UserDataFamily.ByIdentityProvider => new Filing(family, caller.UserId, ((IIdentityProviderRequest)request).IdentityProvider),
        UserDataFamily.ByUserId => new Filing(family, caller.UserId, ""),
        UserDataFamily.ByEmail => new Filing(family, caller.VerifiedEmail ?? throw new InvalidOperationException("no verified email"), ""),
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };
}
