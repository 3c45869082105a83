import { apiErrors } from '../api-error.ts';
import { apiTime, type MonitorSettings } from '../state.ts';
import {
  EVALUATION_COUNTS,
  FAILURE_RATES,
  IP_VERSIONS,
  TEMPLATE_PROTOCOLS,
  TIMEOUTS,
  type MonitorTemplate,
  type TemplateProtocol,
} from './model.ts';
import { cloudErrors, intOneOf, jsonItems, listPage, type CloudActionContext, type CloudActionHandler } from './context.ts';

/**
 * Health-check templates: Create / Update / Delete / Describe / List CloudGtmMonitorTemplate.
 * Interval: the models say 60 by default and 15 at least (Ultimate edition); the emulator accepts
 * 15 to 3600 s. ExtendInfo per protocol: http(s) `host`, `path`, `code` (unhealthy when the status
 * is greater), `sni`, `followRedirect`; ping `packetNum`, `packetLossRate`; tcp nothing. The port
 * is not in the template: each address's health task names it.
 */

const INTERVAL = { min: 15, max: 3600 };
const MAX_NODES = 100;

function findTemplate(context: CloudActionContext): MonitorTemplate {
  const id = context.params.requiredString('TemplateId');
  const template = context.store.templates.get(id);
  if (!template) throw cloudErrors.notFound('TemplateId', id);
  return template;
}

function parseNodes(context: CloudActionContext, required: boolean): MonitorTemplate['ispCityNodes'] | undefined {
  const items = jsonItems(context.params, 'IspCityNodes', MAX_NODES);
  if (items === undefined) {
    if (required) throw apiErrors.missingParameter('IspCityNodes');
    return undefined;
  }
  if (items.length === 0) throw apiErrors.invalidParameter('IspCityNodes', 'at least one detection point is needed.');
  // Probing happens from this machine; the nodes are kept only to be described back.
  return items.map((item) => ({ cityCode: item.requiredString('CityCode'), ispCode: item.requiredString('IspCode') }));
}

function parseExtendInfo(raw: string | undefined, protocol: TemplateProtocol): MonitorSettings {
  if (raw === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw apiErrors.invalidParameter('ExtendInfo', 'the value is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw apiErrors.invalidParameter('ExtendInfo', 'expected a JSON object such as {"host":"example.com","path":"/","code":500}.');
  const info = value as Record<string, unknown>;
  const settings: MonitorSettings = {};
  if (protocol === 'http' || protocol === 'https') {
    if (info.code !== undefined) {
      const code = Number(info.code);
      if (!Number.isInteger(code) || code < 100 || code > 599)
        throw apiErrors.invalidParameter(
          'ExtendInfo',
          `code must be an HTTP status between 100 and 599, got ${JSON.stringify(info.code)}.`,
        );
      settings.code = code;
    }
    if (info.host !== undefined) {
      if (typeof info.host !== 'string' || info.host === '')
        throw apiErrors.invalidParameter('ExtendInfo', 'host must be a non-empty string.');
      settings.host = info.host;
    }
    if (info.path !== undefined) {
      if (typeof info.path !== 'string' || !info.path.startsWith('/'))
        throw apiErrors.invalidParameter('ExtendInfo', `path must be a string starting with "/", got ${JSON.stringify(info.path)}.`);
      settings.path = info.path;
    }
    if (info.sni !== undefined) settings.sni = info.sni === true || info.sni === 'true';
  }
  return settings;
}

const createTemplate: CloudActionHandler = (context) => {
  const { params, store, now } = context;
  const name = params.requiredString('Name');
  const protocol = params.requiredEnum('Protocol', TEMPLATE_PROTOCOLS);
  const ipVersion = params.requiredEnum('IpVersion', IP_VERSIONS);
  const interval = params.requiredInt('Interval', INTERVAL);
  const evaluationCount = intOneOf(params, 'EvaluationCount', EVALUATION_COUNTS, true) as number;
  const timeout = intOneOf(params, 'Timeout', TIMEOUTS, true) as number;
  const failureRate = intOneOf(params, 'FailureRate', FAILURE_RATES, true) as number;
  const extendInfo = params.optionalString('ExtendInfo');
  const settings = parseExtendInfo(extendInfo, protocol);
  const ispCityNodes = parseNodes(context, true) ?? [];
  const template: MonitorTemplate = {
    id: store.newId('mtp-'),
    name,
    protocol,
    ipVersion,
    interval,
    evaluationCount,
    timeout,
    failureRate,
    extendInfo: extendInfo ?? '{}',
    settings,
    ispCityNodes,
    createdAt: now,
    updatedAt: now,
  };
  store.templates.set(template.id, template);
  return { TemplateId: template.id, Success: true };
};

const updateTemplate: CloudActionHandler = (context) => {
  const { params } = context;
  const template = findTemplate(context);
  const name = params.optionalString('Name');
  const interval = params.optionalInt('Interval', INTERVAL);
  const evaluationCount = intOneOf(params, 'EvaluationCount', EVALUATION_COUNTS, false);
  const timeout = intOneOf(params, 'Timeout', TIMEOUTS, false);
  const failureRate = intOneOf(params, 'FailureRate', FAILURE_RATES, false);
  const extendInfo = params.optionalString('ExtendInfo');
  const settings = extendInfo === undefined ? undefined : parseExtendInfo(extendInfo, template.protocol);
  const ispCityNodes = parseNodes(context, false);
  // Everything is checked before anything changes: a refused update leaves the template as it was.
  Object.assign(template, {
    ...(name === undefined ? {} : { name }),
    ...(interval === undefined ? {} : { interval }),
    ...(evaluationCount === undefined ? {} : { evaluationCount }),
    ...(timeout === undefined ? {} : { timeout }),
    ...(failureRate === undefined ? {} : { failureRate }),
    ...(extendInfo === undefined ? {} : { extendInfo, settings }),
    ...(ispCityNodes === undefined ? {} : { ispCityNodes }),
    updatedAt: context.now,
  });
  context.probesChanged();
  return { Success: true };
};

const deleteTemplate: CloudActionHandler = (context) => {
  const template = findTemplate(context);
  const users = context.store.addressesUsingTemplate(template.id);
  if (users.length > 0) throw cloudErrors.inUse('MonitorTemplate', template.id, `address ${users.map((a) => a.id).join(', ')}`);
  context.store.templates.delete(template.id);
  return { Success: true };
};

function templateBody(template: MonitorTemplate): Record<string, unknown> {
  return {
    TemplateId: template.id,
    Name: template.name,
    Protocol: template.protocol,
    IpVersion: template.ipVersion,
    Interval: template.interval,
    EvaluationCount: template.evaluationCount,
    Timeout: template.timeout,
    FailureRate: template.failureRate,
    ExtendInfo: template.extendInfo,
    IspCityNodes: {
      IspCityNode: template.ispCityNodes.map((node) => ({
        CityCode: node.cityCode,
        CityName: node.cityCode,
        IspCode: node.ispCode,
        IspName: node.ispCode,
        CountryCode: '',
        CountryName: '',
        GroupName: '',
        GroupType: '',
      })),
    },
    Remark: template.remark ?? '',
    CreateTime: apiTime(template.createdAt),
    CreateTimestamp: template.createdAt,
    UpdateTime: apiTime(template.updatedAt),
    UpdateTimestamp: template.updatedAt,
  };
}

const describeTemplate: CloudActionHandler = (context) => templateBody(findTemplate(context));

const listTemplates: CloudActionHandler = (context) => {
  const { params } = context;
  const ipVersion = params.optionalEnum('IpVersion', IP_VERSIONS);
  const protocol = params.optionalEnum('Protocol', TEMPLATE_PROTOCOLS);
  const name = params.optionalString('Name');
  const matching = [...context.store.templates.values()].filter(
    (t) =>
      (ipVersion === undefined || t.ipVersion === ipVersion) &&
      (protocol === undefined || t.protocol === protocol) &&
      (name === undefined || t.name.includes(name)),
  );
  const { fields, pageItems } = listPage(context, matching);
  return { ...fields, Templates: { Template: pageItems.map(templateBody) } };
};

export const templateActions: Record<string, CloudActionHandler> = {
  CreateCloudGtmMonitorTemplate: createTemplate,
  UpdateCloudGtmMonitorTemplate: updateTemplate,
  DeleteCloudGtmMonitorTemplate: deleteTemplate,
  DescribeCloudGtmMonitorTemplate: describeTemplate,
  ListCloudGtmMonitorTemplates: listTemplates,
};
