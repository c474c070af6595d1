import { describe, expect, it } from 'vitest';
import { fieldsFor, formOf, newForm, payloadOf, typesFor, type Provider } from './providers';

describe('provider forms', () => {
  it('offers the types a channel can have', () => {
    expect(typesFor('email')).toEqual(['smtp', 'http', 'file']);
    expect(typesFor('webhook')).toEqual(['webhook', 'file']);
    expect(typesFor('sms')).toEqual(['http', 'file']);
  });
  it('has the secret fields of provider.c', () => {
    expect(fieldsFor('smtp').filter((f) => f.secret).map((f) => f.key)).toEqual(['password']);
    expect(fieldsFor('http').filter((f) => f.secret).map((f) => f.key)).toEqual(['headers']);
    expect(fieldsFor('webhook').filter((f) => f.secret).map((f) => f.key)).toEqual(['secret']);
  });
  it('a create sends what is filled in, typed', () => {
    const f = newForm('sms');
    f.name = 'Aligo';
    f.values = { url: 'https://api.example/send', headers: 'Authorization: Bearer x\nX-Key: 1', success: '2xx, 201', timeout_ms: '5000', method: '' };
    expect(payloadOf(f)).toEqual({
      channel: 'sms',
      type: 'http',
      name: 'Aligo',
      priority: 0,
      disabled: false,
      url: 'https://api.example/send',
      headers: { Authorization: 'Bearer x', 'X-Key': '1' },
      success: ['2xx', '201'],
      timeout_ms: 5000,
    });
  });
  it('a PATCH sends only changes; emptied settings are null; secrets kept unless typed or cleared', () => {
    const p: Provider = {
      id: 'prv_1', channel: 'email', type: 'smtp', name: 'Mail', priority: 0, disabled: false,
      config: { url: 'smtp://mx:25', from: 'A <a@b.kr>', starttls: 1 }, secrets: ['password'], created_at: '', updated_at: '',
    };
    const f = formOf(p);
    expect(payloadOf(f, p)).toEqual({});
    f.values.from = '';
    f.values.starttls = '2';
    expect(payloadOf(f, p)).toEqual({ from: null, starttls: 2 });
    f.values.password = 'new';
    expect(payloadOf(f, p)).toMatchObject({ password: 'new' });
    f.values.password = '';
    f.clearSecrets.password = true;
    expect(payloadOf(f, p)).toMatchObject({ password: null });
  });
  it('refuses a bad number at its field', () => {
    const f = newForm('email');
    f.values = { url: 'smtp://x', from: 'a@b.kr', timeout_ms: 'soon' };
    expect(() => payloadOf(f)).toThrow(/err.int/);
  });
});
