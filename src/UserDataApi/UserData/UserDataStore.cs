using Microsoft.EntityFrameworkCore;
using UserDataApi.Auth;
using UserDataApi.Persistence;

namespace UserDataApi.UserData;

/// <summary>Reads and writes user-data records, each call one SQL statement.</summary>
public sealed class UserDataStore(UserDataDbContext db)
{
    /// <summary>The caller's own records and other client apps' public ones, in the order the keys were asked for.</summary>
    public async Task<GetResponse> GetAsync(GetRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var keys = request.ValueKeys.Distinct(StringComparer.Ordinal).ToArray();
        var found = await db.Records
            .AsNoTracking()
            .Where(r => r.UserId == caller.UserId
                        && r.IdentityProvider == request.IdentityProvider
                        && keys.Contains(r.Key)
                        && (r.ClientAppId == caller.ClientAppId || r.AccessScope == AccessScope.Public))
            .Select(r => new UserDataValue(r.Key, r.Value))
            .ToDictionaryAsync(v => v.ValueKey, StringComparer.Ordinal, cancellationToken);

        var values = keys.Where(found.ContainsKey).Select(k => found[k]).ToArray();
        return new GetResponse(request.RequestId, values.Length > 0 ? ResultCode.Success : ResultCode.SuccessNotFound, values);
    }
}
