import { TricenterError } from '#shared/platform/errors.ts';
import type { ClusterRegistry } from '#shared/delivery/model/clusters.ts';

/**
 * The steps that give the functions' RAM role Kubernetes permissions on the registry's ACK clusters
 * (docs/ack-access.md says why setup prints them rather than calling GrantPermissions itself).
 * Pure: the registry and the role name in, the text out.
 */
export const DEPLOYER_CLUSTER_ROLE = 'tricenter-deployer';
export const DEPLOYER_CLUSTER_ROLE_FILE = 'docs/ack/tricenter-deployer.yaml';

interface AckGrant {
  cluster: string;
  role_type: 'cluster';
  role_name: string;
  is_custom: true;
  is_ram_role: true;
}

interface AckCluster {
  name: string;
  clusterId: string;
  region: string;
}

function ackClusters(registry: ClusterRegistry): AckCluster[] {
  return registry.clusters.flatMap(({ name, connection }) =>
    connection && 'ackClusterId' in connection ? [{ name, clusterId: connection.ackClusterId, region: connection.region }] : [],
  );
}

/** GrantPermissions' body: it replaces every grant the role has, so it lists every ACK cluster at once. */
function ackGrants(clusters: AckCluster[]): AckGrant[] {
  const ids = [...new Set(clusters.map((c) => c.clusterId))].sort();
  return ids.map((cluster) => ({ cluster, role_type: 'cluster', role_name: DEPLOYER_CLUSTER_ROLE, is_custom: true, is_ram_role: true }));
}

const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

// RAM's rule for role names; checked because the name lands in shell commands.
const ROLE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function ackAccessSteps(registry: ClusterRegistry, roleName: string, registryFile: string): string {
  if (!ROLE_NAME.test(roleName))
    throw new TricenterError(
      'VALIDATION',
      `--role-name / TRICENTER_ROLE_NAME "${roleName}" is not a RAM role name (1-64 letters, digits, ".", "-", "_")`,
    );
  const clusters = ackClusters(registry);
  if (clusters.length === 0)
    return `No ACK cluster in ${registryFile}: the functions use the kubeconfigs the registry names, with whatever RBAC they carry.\n`;
  const lines = [
    `Kubernetes RBAC for the RAM role ${roleName} on the ${clusters.length} ACK cluster(s) of ${registryFile}:`,
    '',
    `1. On each cluster, as its administrator, create the ClusterRole the grant names (${DEPLOYER_CLUSTER_ROLE_FILE}):`,
    ...clusters.map(
      (c) => `     kubectl --context <admin context of ${c.name}> apply -f ${DEPLOYER_CLUSTER_ROLE_FILE}   # ${c.clusterId}, ${c.region}`,
    ),
    '',
    `2. Grant it to the role on all of them in one call (GrantPermissions replaces all the role's grants; this list is complete):`,
    `     ROLE_ID=$(aliyun ram GetRole --RoleName ${shellQuote(roleName)} | jq -r .Role.RoleId)`,
    `     aliyun cs POST "/permissions/users/$ROLE_ID" --header "Content-Type=application/json" --body ${shellQuote(JSON.stringify(ackGrants(clusters)))}`,
    `   (or in the ACK console: Authorizations > RAM Roles > ${roleName} > for each cluster, all namespaces, Custom role ${DEPLOYER_CLUSTER_ROLE}).`,
    '',
    `3. Check: each cluster now binds ${DEPLOYER_CLUSTER_ROLE} to the role:`,
    ...clusters.map(
      (c) => `     kubectl --context <admin context of ${c.name}> get clusterrolebindings -o wide | grep ${DEPLOYER_CLUSTER_ROLE}`,
    ),
    '',
    'Who runs these needs cs:GrantPermissions and ram:GetRole, and cluster-admin RBAC on each cluster.',
    '',
  ];
  return lines.join('\n');
}
