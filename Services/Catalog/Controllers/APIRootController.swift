import Hummingbird
import SimforgeModels
import SimforgeServer

/// `GET /{userId}/api/v2/`: clients probe it to check a token.
struct APIRootController {
    func addRoutes(to group: RouterGroup<SimforgeRequestContext>) {
        group.get(use: self.root)
    }

    @Sendable func root(_ request: Request, context: SimforgeRequestContext) async throws -> APIRoot {
        let base = PublicURL.apiBase(userId: try context.requireUserId(), context: context)
        return APIRoot(analyses: base + "analyses/", coretypes: base + "coretypes/", files: base + "files/", jobs: base + "jobs/")
    }
}
