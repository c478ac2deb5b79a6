using FluentValidation;
using Google.Protobuf.WellKnownTypes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using UserDataApi.Auth;
using UserDataApi.Intents.Rpc.Object;
using UserDataApi.Intents.Rpc.User;
using UserDataApi.Persistence;

namespace UserDataApi.Intents;

/// <summary>Links between provider accounts and users, which retrieve consults to answer userId and updateHumanUser.</summary>
/// <remarks>
/// A caller may manage only its own links, unless its token carries <c>Intents:AdminScope</c>: otherwise any
/// holder of the intents scope could link its own provider account to somebody else's user and sign in as them.
/// </remarks>
public sealed class IntentLinks(
    UserDataDbContext db,
    ExternalProviders providers,
    IntentScopes scopes,
    IValidator<AddIDPLinkRequest> addRules,
    IValidator<ListIDPLinksRequest> listRules,
    IOptions<IntentsOptions> options,
    TimeProvider time)
{
    private Timestamp Now => Timestamp.FromDateTimeOffset(time.GetUtcNow());

    public async Task<IntentOutcome<AddIDPLinkResponse>> AddAsync(Caller caller, AddIDPLinkRequest request, CancellationToken cancellationToken)
    {
        if (!scopes.MayManageLinksOf(caller, request.UserId))
        {
            return NotYours();
        }
        if (addRules.Check(request) is { } invalid)
        {
            return invalid;
        }
        var link = request.IdpLink;
        if (providers.Find(link.IdpId) is null)
        {
            return IntentFailures.ProviderNotFound(link.IdpId);
        }

        var now = time.GetUtcNow().UtcDateTime;
        // An account linked already is an ordinary answer (409), not a failed command in the log: the insert
        // does nothing on a conflict, and says so by the rows it wrote.
        var written = await db.Database.ExecuteSqlAsync(
            $"""
             INSERT INTO idp_links (idp_id, linked_user_id, linked_user_name, user_id, resource_owner, sequence, created_at)
             VALUES ({link.IdpId}, {link.UserId}, {link.UserName}, {request.UserId}, {options.Value.ResourceOwner}, 1, {now})
             ON CONFLICT (idp_id, linked_user_id) DO NOTHING
             """, cancellationToken);
        if (written == 0)
        {
            return IntentFailures.LinkExists();
        }
        return new AddIDPLinkResponse { Details = DetailsOf(1, Now, Now) };
    }

    public async Task<IntentOutcome<ListIDPLinksResponse>> ListAsync(Caller caller, ListIDPLinksRequest request, CancellationToken cancellationToken)
    {
        if (!scopes.MayManageLinksOf(caller, request.UserId))
        {
            return NotYours();
        }
        if (listRules.Check(request) is { } invalid)
        {
            return invalid;
        }
        var offset = request.Query?.Offset ?? 0;
        var limit = request.Query?.Limit is > 0 and var asked ? (int)asked : ListLinksRequestValidator.DefaultLimit;
        var links = db.Links.AsNoTracking().Where(l => l.UserId == request.UserId);
        var total = await links.LongCountAsync(cancellationToken);
        // ZITADEL's ListQuery: asc false (its default) is newest first.
        var ordered = request.Query?.Asc == true
            ? links.OrderBy(l => l.CreatedAt).ThenBy(l => l.IdpId).ThenBy(l => l.LinkedUserId)
            : links.OrderByDescending(l => l.CreatedAt).ThenByDescending(l => l.IdpId).ThenByDescending(l => l.LinkedUserId);
        var page = await ordered
            .Skip((int)Math.Min(offset, int.MaxValue))
            .Take(limit)
            .Select(l => new { l.IdpId, l.LinkedUserId, l.LinkedUserName })
            .ToListAsync(cancellationToken);
        var response = new ListIDPLinksResponse { Details = new ListDetails { TotalResult = (ulong)total, Timestamp = Now } };
        response.Result.AddRange(page.Select(l => new IDPLink { IdpId = l.IdpId, UserId = l.LinkedUserId, UserName = l.LinkedUserName }));
        return response;
    }

    public async Task<IntentOutcome<RemoveIDPLinkResponse>> RemoveAsync(Caller caller, RemoveIDPLinkRequest request, CancellationToken cancellationToken)
    {
        if (!scopes.MayManageLinksOf(caller, request.UserId))
        {
            return NotYours();
        }
        if (!StoredText.IsStorable(request.UserId) || !StoredText.IsStorable(request.IdpId) || !StoredText.IsStorable(request.LinkedUserId))
        {
            return IntentFailures.LinkNotFound();
        }
        var removed = await db.Links
            .Where(l => l.UserId == request.UserId && l.IdpId == request.IdpId && l.LinkedUserId == request.LinkedUserId)
            .ExecuteDeleteAsync(cancellationToken);
        if (removed == 0)
        {
            return IntentFailures.LinkNotFound();
        }
        return new RemoveIDPLinkResponse { Details = DetailsOf(1, Now, creationDate: null) };
    }

    private Details DetailsOf(long sequence, Timestamp changeDate, Timestamp? creationDate) =>
        new() { Sequence = (ulong)sequence, ChangeDate = changeDate, ResourceOwner = options.Value.ResourceOwner, CreationDate = creationDate };

    private IntentError NotYours() => IntentFailures.LinksNotYours(scopes.LinksAdmin.ToString());
}
