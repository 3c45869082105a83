import type { ApprovalAuthConfig, ReplayGuard } from '#shared/delivery/approval/auth.ts';
import type { ApprovalLinkStore } from '#shared/delivery/ports/approval-link-store.port.ts';
import type { WorkflowDeps } from '#shared/delivery/usecases/deps.ts';

/** What the approval function needs: its own file, so routes.ts and handler.ts (which imports routes.ts on demand) form no cycle. */
export interface ApprovalDeps extends WorkflowDeps {
  auth: ApprovalAuthConfig;
  replay: ReplayGuard;
  /** The bucket uploads go to; its trigger (OSS or the local watcher) starts the ingest. */
  bucket: string;
  /** One-time approval links (link-routes.ts); absent: `/links/...` is 404. */
  links?: ApprovalLinkStore;
}
