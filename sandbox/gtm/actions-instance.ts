import { apiErrors } from './api-error.ts';
import { paginate, requireInstance, type ActionContext, type ActionHandler } from './action-context.ts';
import { apiTime, type AlertConfig } from './state.ts';

/** Instance actions: DescribeDnsGtmInstance(s), UpdateDnsGtmInstanceGlobalConfig, DescribeDnsGtmInstanceStatus. */

const NOTICE_TYPES = [
  'ADDR_ALERT',
  'ADDR_RESUME',
  'ADDR_POOL_GROUP_UNAVAILABLE',
  'ADDR_POOL_GROUP_AVAILABLE',
  'ACCESS_STRATEGY_POOL_GROUP_SWITCH',
  'MONITOR_NODE_IP_CHANGE',
] as const;

/** A year of subscription from the emulator's start: the instance never expires during a run. */
const SUBSCRIPTION_MS = 365 * 24 * 3600 * 1000;

function instanceView(context: ActionContext, flagsAsStrings: boolean) {
  const { store } = context;
  const { config } = store;
  const alertConfig = config.alertConfig.map((alert) => {
    const flag = (value: boolean | undefined) => (flagsAsStrings ? String(value ?? false) : (value ?? false));
    return {
      NoticeType: alert.noticeType ?? '',
      SmsNotice: flag(alert.smsNotice),
      EmailNotice: flag(alert.emailNotice),
      DingtalkNotice: flag(alert.dingtalkNotice),
    };
  });
  return {
    InstanceId: store.instanceId,
    VersionCode: 'ultimate',
    PaymentType: 'Subscription',
    ResourceGroupId: 'rg-local',
    CreateTime: apiTime(store.createdAt),
    CreateTimestamp: store.createdAt,
    ExpireTime: apiTime(store.createdAt + SUBSCRIPTION_MS),
    ExpireTimestamp: store.createdAt + SUBSCRIPTION_MS,
    SmsQuota: 1000,
    TaskQuota: 100,
    UsedQuota: { EmailUsedCount: 0, TaskUsedCount: store.pools.size, SmsUsedCount: 0, DingtalkUsedCount: 0 },
    config: {
      Ttl: config.ttl,
      InstanceName: config.instanceName ?? '',
      CnameType: config.cnameType,
      StrategyMode: 'GEO',
      PublicCnameMode: config.publicCnameMode ?? '',
      PublicUserDomainName: config.publicUserDomainName ?? '',
      PublicRr: config.publicRr ?? '',
      AlertGroup: config.alertGroup ?? '[]',
    },
    alertConfig,
  };
}

const describeInstance: ActionHandler = (context) => {
  requireInstance(context);
  const { config, alertConfig, ...rest } = instanceView(context, false);
  // DescribeDnsGtmInstance spells it PubicZoneName and wraps AlertConfig (facts file, notes).
  return {
    ...rest,
    Config: { ...config, PubicZoneName: context.store.config.publicZoneName ?? '', AlertConfig: { AlertConfig: alertConfig } },
  };
};

const describeInstances: ActionHandler = (context) => {
  const { params } = context;
  const { pageNumber, pageSize } = params.page();
  const keyword = params.optionalString('Keyword');
  const resourceGroupId = params.optionalString('ResourceGroupId');
  const { config, alertConfig, ...rest } = instanceView(context, true);
  const matches =
    (keyword === undefined || rest.InstanceId.includes(keyword) || config.InstanceName.includes(keyword)) &&
    (resourceGroupId === undefined || resourceGroupId === rest.ResourceGroupId);
  const instances = matches
    ? [{ ...rest, Config: { ...config, PublicZoneName: context.store.config.publicZoneName ?? '', AlertConfig: alertConfig } }]
    : [];
  const { fields, pageItems } = paginate(instances, pageNumber, pageSize);
  return { ...fields, GtmInstances: pageItems };
};

const updateGlobalConfig: ActionHandler = (context) => {
  const { params, store } = context;
  requireInstance(context);
  const instanceName = params.optionalString('InstanceName');
  if (instanceName === undefined && store.config.instanceName === undefined) {
    // Required on the first update of an instance (facts file).
    throw apiErrors.missingParameter('InstanceName');
  }
  const ttl = params.optionalInt('Ttl', { min: 1, max: 9_999_999 });
  const publicCnameMode = params.optionalEnum('PublicCnameMode', ['CUSTOM', 'SYSTEM_ASSIGN']);
  const publicZoneName = params.optionalString('PublicZoneName');
  if (publicCnameMode === 'CUSTOM' && publicZoneName === undefined && store.config.publicZoneName === undefined) {
    throw apiErrors.missingParameter('PublicZoneName');
  }
  const alertGroup = params.optionalString('AlertGroup');
  if (alertGroup !== undefined) {
    const parsed = params.optionalJson('AlertGroup');
    if (!Array.isArray(parsed)) throw apiErrors.invalidParameter('AlertGroup', 'expected a JSON array of alert-group names.');
  }
  const cnameType = params.optionalEnum('CnameType', ['PUBLIC']);
  params.optionalBoolean('ForceUpdate');
  const alertItems = params.repeatList('AlertConfig', 100);
  const alertConfig = alertItems.map((item): AlertConfig => {
    const entry: AlertConfig = {};
    const noticeType = item.optionalEnum('NoticeType', NOTICE_TYPES);
    if (noticeType !== undefined) entry.noticeType = noticeType;
    const sms = item.optionalBoolean('SmsNotice');
    if (sms !== undefined) entry.smsNotice = sms;
    const email = item.optionalBoolean('EmailNotice');
    if (email !== undefined) entry.emailNotice = email;
    const dingtalk = item.optionalBoolean('DingtalkNotice');
    if (dingtalk !== undefined) entry.dingtalkNotice = dingtalk;
    return entry;
  });
  const changes = {
    instanceName,
    ttl,
    publicCnameMode,
    publicZoneName,
    publicUserDomainName: params.optionalString('PublicUserDomainName'),
    publicRr: params.optionalString('PublicRr'),
    alertGroup,
    cnameType,
    alertConfig: alertItems.length > 0 ? alertConfig : undefined,
  };
  // Parameters left out keep their value: this action updates the fields it is given.
  store.config = { ...store.config, ...Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) };
  return {};
};

const describeInstanceStatus: ActionHandler = (context) => {
  const { store } = context;
  requireInstance(context);
  let addrAvailable = 0;
  let addrNotAvailable = 0;
  for (const pool of store.pools.values()) {
    for (const address of pool.addresses) {
      if (store.isAvailable(pool, address)) addrAvailable += 1;
      else addrNotAvailable += 1;
    }
  }
  let strategyNotAvailable = 0;
  let switchedToFailover = 0;
  let groupsNotAvailable = 0;
  for (const strategy of store.strategies.values()) {
    const evaluation = store.evaluate(strategy);
    if (!evaluation.defaultUp) groupsNotAvailable += 1;
    if (strategy.failoverPools.length > 0 && !evaluation.failoverUp) groupsNotAvailable += 1;
    if (!evaluation.defaultUp && !evaluation.failoverUp) strategyNotAvailable += 1;
    if (evaluation.effective === 'FAILOVER') switchedToFailover += 1;
  }
  return {
    AddrAvailableNum: addrAvailable,
    AddrNotAvailableNum: addrNotAvailable,
    AddrPoolGroupNotAvailableNum: groupsNotAvailable,
    StrategyNotAvailableNum: strategyNotAvailable,
    SwitchToFailoverStrategyNum: switchedToFailover,
  };
};

export const instanceActions: Record<string, ActionHandler> = {
  DescribeDnsGtmInstance: describeInstance,
  DescribeDnsGtmInstances: describeInstances,
  UpdateDnsGtmInstanceGlobalConfig: updateGlobalConfig,
  DescribeDnsGtmInstanceStatus: describeInstanceStatus,
};
